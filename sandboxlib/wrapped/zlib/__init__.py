"""Python's ``zlib``, with the real zlib 1.2.13 running in a sandbox.

The common surface of the standard module -- ``compress``, ``decompress``,
``compressobj``, ``decompressobj``, ``crc32``, ``adler32``, the constants and
``error`` -- with the same results byte for byte (the same zlib, called the way
CPython calls it). Differences:

- ``decompress`` and ``decompressobj`` take ``max_output`` (default
  ``DEFAULT_MAX_OUTPUT``, 256 MiB; ``None`` for no limit): decompressing more
  raises ``error``, so a small bomb cannot exhaust the host.
- Every function takes ``backend=`` ("wasmtime", "wasm2c", "native"); the default
  is ``$SANDBOXLIB_BACKEND``, else wasmtime. Module-level functions reuse one
  sandbox per thread and backend (replaced after any error; a call re-entered while
  one runs gets its own); each streaming object owns one (shared with its ``copy()``).
- ``Inflater`` (not in CPython's module): streams inflated one after another in one
  sandbox of its own, for a caller with many small streams from one source.
- ``error`` derives from ``sandboxlib.SandboxError``; it is also raised when the
  sandbox fails (trap, limit, a value that did not verify) and where CPython raises
  MemoryError for zlib running out of memory (the sandbox's memory, not the host's).

The modules: this one has the one-shot functions; ``_streaming`` the ``Compress`` and
``Decompress`` objects; ``_inflater`` ``Inflater``; ``_core`` the sandboxes and the
z_stream driver; ``_output`` CPython's output buffer; ``_args`` and ``_constants`` what
CPython's module has; ``_errors`` ``error``; ``_package`` the generated package (typed
by its generated stub, ``_package.pyi``); ``_library`` what its return codes mean here.
``bench`` is this library's workload for ``sandboxlib bench``.
"""

from __future__ import annotations

import operator
import re
from typing import TYPE_CHECKING

from . import _core
from ._args import as_buffer, c_int, output_limit, over_message
from ._constants import (CHECKSUM_CHUNK, DEF_BUF_SIZE, DEF_MEM_LEVEL, DEFAULT_MAX_OUTPUT,
                         DEFLATED, MAX_WBITS, Z_BEST_COMPRESSION, Z_BEST_SPEED, Z_BLOCK,
                         Z_DEFAULT_COMPRESSION, Z_DEFAULT_STRATEGY, Z_FILTERED, Z_FINISH, Z_FIXED,
                         Z_FULL_FLUSH, Z_HUFFMAN_ONLY, Z_NO_COMPRESSION, Z_NO_FLUSH,
                         Z_PARTIAL_FLUSH, Z_RLE, Z_SYNC_FLUSH, Z_TREES, ZLIB_VERSION)
from ._core import borrowed
from ._errors import error, insist, zlib_error
from ._inflater import Inflater
from ._package import Z_BUF_ERROR, Z_MEM_ERROR, Z_OK, Z_STREAM_END, Z_STREAM_ERROR
from ._output import Output, output_bound
from ._streaming import Compress, Decompress

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "DEFLATED", "DEF_BUF_SIZE", "DEF_MEM_LEVEL", "DEFAULT_MAX_OUTPUT", "MAX_WBITS",
    "ZLIB_RUNTIME_VERSION", "ZLIB_VERSION", "Z_BEST_COMPRESSION", "Z_BEST_SPEED", "Z_BLOCK",
    "Z_DEFAULT_COMPRESSION", "Z_DEFAULT_STRATEGY", "Z_FILTERED", "Z_FINISH", "Z_FIXED",
    "Z_FULL_FLUSH", "Z_HUFFMAN_ONLY", "Z_NO_COMPRESSION", "Z_NO_FLUSH", "Z_PARTIAL_FLUSH",
    "Z_RLE", "Z_SYNC_FLUSH", "Z_TREES", "Compress", "Decompress", "Inflater", "adler32",
    "compress", "compressobj", "crc32", "decompress", "decompressobj", "error",
]

_runtime_version: str | None = None


def __dir__() -> list[str]:
    return sorted({*globals(), "ZLIB_RUNTIME_VERSION"})


def __getattr__(name: str) -> str:
    """``ZLIB_RUNTIME_VERSION``: asked of a sandbox on first use."""
    global _runtime_version
    if name != "ZLIB_RUNTIME_VERSION":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _runtime_version is None:
        with borrowed(None, "reading the version") as session:
            raw = session.lib.helpers.zlibVersion()
            if raw is None:
                raise error("the sandboxed zlibVersion() returned NULL")
            text = raw.verify(lambda b: re.fullmatch(rb"\d+(\.\d+)*[\w.-]*", b) is not None,
                              "a version number")
        _runtime_version = text.decode("ascii")
    return _runtime_version


# -- one-shot functions -------------------------------------------------------------


def compress(data: ReadableBuffer, /, level: int = Z_DEFAULT_COMPRESSION,
             wbits: int = MAX_WBITS, *, backend: str | None = None) -> bytes:
    """Compress ``data``; the same bytes as ``zlib.compress``."""
    view, level, wbits = as_buffer(data), c_int(level), c_int(wbits)
    with borrowed(backend, "compressing data") as session:
        stream = session.scratch()
        code = stream.deflate_init(level, DEFLATED, wbits, DEF_MEM_LEVEL,
                                   Z_DEFAULT_STRATEGY)
        if code == Z_MEM_ERROR:
            raise error("Out of memory while compressing data")
        if code == Z_STREAM_ERROR:
            raise error("Bad compression level")
        if code != Z_OK:
            raise zlib_error(code, "while compressing data", stream.message())
        out = Output.grown(limit=output_bound(len(view), 1),
                           over="compressed output exceeds deflate's bound")
        stream.feed(view)
        while True:
            flush = Z_FINISH if stream.arrange() == 0 else Z_NO_FLUSH
            while True:
                if out.avail == 0:
                    out.grow()
                code = stream.call(True, flush, out)
                if code == Z_STREAM_ERROR:
                    raise zlib_error(code, "while compressing data", stream.message())
                if out.avail != 0:
                    break
            insist(stream.avail_in == 0, "deflate left input with output room")
            if flush == Z_FINISH:
                break
        insist(code == Z_STREAM_END, f"deflate(Z_FINISH) returned {code}")
        code = stream.end(True)
        if code != Z_OK:
            raise zlib_error(code, "while finishing compression", stream.message())
        return out.result()


def decompress(data: ReadableBuffer, /, wbits: int = MAX_WBITS, bufsize: int = DEF_BUF_SIZE,
               *, max_output: int | None = DEFAULT_MAX_OUTPUT,
               backend: str | None = None) -> bytes:
    """Decompress ``data``; at most ``max_output`` bytes, else ``error``."""
    view, wbits, bufsize = as_buffer(data), c_int(wbits), operator.index(bufsize)
    limit = output_limit(max_output)
    if bufsize < 0:
        raise ValueError("bufsize must be non-negative")
    with borrowed(backend, "decompressing data") as session:
        stream = session.scratch()
        code = stream.inflate_init(wbits)
        if code == Z_MEM_ERROR:
            raise error("Out of memory while decompressing data")
        if code != Z_OK:
            raise zlib_error(code, "while preparing to decompress data", stream.message())
        out = Output(min(max(bufsize, 1), _core.FIRST_BLOCK_MAX), limit=limit,
                     over=over_message(limit))
        stream.feed(view)
        while True:
            flush = Z_FINISH if stream.arrange() == 0 else Z_NO_FLUSH
            while True:
                if out.avail == 0:
                    out.grow()
                code = stream.call(False, flush, out)
                if code == Z_MEM_ERROR:
                    raise error("Out of memory while decompressing data")
                if code not in (Z_OK, Z_BUF_ERROR, Z_STREAM_END):
                    raise zlib_error(code, "while decompressing data", stream.message())
                if out.avail != 0:
                    break
            if code == Z_STREAM_END or stream.unarranged == 0:
                break
        if code != Z_STREAM_END:
            raise zlib_error(code, "while decompressing data", stream.message())
        code = stream.end(False)
        if code != Z_OK:
            raise zlib_error(code, "while finishing decompression", stream.message())
        return out.result()


def _checksum(name: str, data: ReadableBuffer, value: int, backend: str | None) -> int:
    view, value = as_buffer(data), operator.index(value) & 0xFFFFFFFF
    with borrowed(backend, f"computing {name}") as session:
        lib = session.lib
        fn = lib.crc32_z if name == "crc32" else lib.adler32_z
        with lib.alloc(min(len(view), CHECKSUM_CHUNK)) as buf:  # (len 0: still not NULL)
            for start in range(0, max(len(view), 1), CHECKSUM_CHUNK):
                chunk = view[start:start + CHECKSUM_CHUNK]
                buf.write(chunk)
                value = fn(value, buf, len(chunk)).verify_range(0, 0xFFFFFFFF)
    return value


def crc32(data: ReadableBuffer, value: int = 0, /, *, backend: str | None = None) -> int:
    """CRC-32 of ``data``, continuing from ``value``."""
    return _checksum("crc32", data, value, backend)


def adler32(data: ReadableBuffer, value: int = 1, /, *, backend: str | None = None) -> int:
    """Adler-32 of ``data``, continuing from ``value``."""
    return _checksum("adler32", data, value, backend)


def compressobj(level: int = Z_DEFAULT_COMPRESSION, method: int = DEFLATED,
                wbits: int = MAX_WBITS, memLevel: int = DEF_MEM_LEVEL,
                strategy: int = Z_DEFAULT_STRATEGY, zdict: ReadableBuffer | None = None, *,
                backend: str | None = None) -> Compress:
    """A compressor object, in a sandbox of its own."""
    return Compress(level, method, wbits, memLevel, strategy, zdict, backend=backend)


def decompressobj(wbits: int = MAX_WBITS, zdict: ReadableBuffer = b"", *,
                  max_output: int | None = DEFAULT_MAX_OUTPUT,
                  backend: str | None = None) -> Decompress:
    """A decompressor object, in a sandbox of its own; ``max_output`` bounds all it
    will ever return."""
    return Decompress(wbits, zdict, max_output=max_output, backend=backend)
