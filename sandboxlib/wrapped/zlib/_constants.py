"""The module's constants, from the header the sandboxed zlib was built with, and
the wrapper's own defaults."""

from __future__ import annotations

from typing import Final

from ._library import GENERATED

ZLIB_VERSION: Final[str] = GENERATED.ZLIB_VERSION
DEFLATED: Final[int] = GENERATED.Z_DEFLATED
MAX_WBITS: Final = 15            # zconf.h
DEF_MEM_LEVEL: Final = 8         # zutil.h
DEF_BUF_SIZE: Final = 16 * 1024  # CPython's initial decompression buffer
Z_NO_COMPRESSION: Final[int] = GENERATED.Z_NO_COMPRESSION
Z_BEST_SPEED: Final[int] = GENERATED.Z_BEST_SPEED
Z_BEST_COMPRESSION: Final[int] = GENERATED.Z_BEST_COMPRESSION
Z_DEFAULT_COMPRESSION: Final[int] = GENERATED.Z_DEFAULT_COMPRESSION
Z_FILTERED: Final[int] = GENERATED.Z_FILTERED
Z_HUFFMAN_ONLY: Final[int] = GENERATED.Z_HUFFMAN_ONLY
Z_RLE: Final[int] = GENERATED.Z_RLE
Z_FIXED: Final[int] = GENERATED.Z_FIXED
Z_DEFAULT_STRATEGY: Final[int] = GENERATED.Z_DEFAULT_STRATEGY
Z_NO_FLUSH: Final[int] = GENERATED.Z_NO_FLUSH
Z_PARTIAL_FLUSH: Final[int] = GENERATED.Z_PARTIAL_FLUSH
Z_SYNC_FLUSH: Final[int] = GENERATED.Z_SYNC_FLUSH
Z_FULL_FLUSH: Final[int] = GENERATED.Z_FULL_FLUSH
Z_FINISH: Final[int] = GENERATED.Z_FINISH
Z_BLOCK: Final[int] = GENERATED.Z_BLOCK
Z_TREES: Final[int] = GENERATED.Z_TREES

DEFAULT_MAX_OUTPUT = 256 << 20
"""Default bomb guard of ``decompress``/``decompressobj``: at most this many bytes out."""
CHECKSUM_CHUNK = 4 << 20
"""crc32/adler32 go through one sandbox buffer of at most this many bytes."""
