"""The module's constants, from the header the sandboxed zlib was built with, and
the wrapper's own defaults."""

from __future__ import annotations

from typing import Final

from . import _package

ZLIB_VERSION: Final[str] = _package.ZLIB_VERSION
DEFLATED: Final[int] = _package.Z_DEFLATED
MAX_WBITS: Final = 15            # zconf.h
DEF_MEM_LEVEL: Final = 8         # zutil.h
DEF_BUF_SIZE: Final = 16 * 1024  # CPython's initial decompression buffer
Z_NO_COMPRESSION: Final[int] = _package.Z_NO_COMPRESSION
Z_BEST_SPEED: Final[int] = _package.Z_BEST_SPEED
Z_BEST_COMPRESSION: Final[int] = _package.Z_BEST_COMPRESSION
Z_DEFAULT_COMPRESSION: Final[int] = _package.Z_DEFAULT_COMPRESSION
Z_FILTERED: Final[int] = _package.Z_FILTERED
Z_HUFFMAN_ONLY: Final[int] = _package.Z_HUFFMAN_ONLY
Z_RLE: Final[int] = _package.Z_RLE
Z_FIXED: Final[int] = _package.Z_FIXED
Z_DEFAULT_STRATEGY: Final[int] = _package.Z_DEFAULT_STRATEGY
Z_NO_FLUSH: Final[int] = _package.Z_NO_FLUSH
Z_PARTIAL_FLUSH: Final[int] = _package.Z_PARTIAL_FLUSH
Z_SYNC_FLUSH: Final[int] = _package.Z_SYNC_FLUSH
Z_FULL_FLUSH: Final[int] = _package.Z_FULL_FLUSH
Z_FINISH: Final[int] = _package.Z_FINISH
Z_BLOCK: Final[int] = _package.Z_BLOCK
Z_TREES: Final[int] = _package.Z_TREES

DEFAULT_MAX_OUTPUT = 256 << 20
"""Default bomb guard of ``decompress``/``decompressobj``: at most this many bytes out."""
CHECKSUM_CHUNK = 4 << 20
"""crc32/adler32 go through one sandbox buffer of at most this many bytes."""
