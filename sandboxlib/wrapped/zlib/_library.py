"""The generated zlib package (built from ``zlib.toml`` on first import), zlib's
return codes, and the part of the generated proxy this package calls, declared by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from sandboxlib import Allocation, Tainted, TaintedPtr
from sandboxlib.codegen.packages import load_generated

GENERATED: Any = load_generated(Path(__file__).with_name("zlib.toml"))
"""The generated low-level proxy package. Typed ``Any``: see the protocols below."""

Z_OK: int = GENERATED.Z_OK
Z_STREAM_END: int = GENERATED.Z_STREAM_END
Z_NEED_DICT: int = GENERATED.Z_NEED_DICT
Z_STREAM_ERROR: int = GENERATED.Z_STREAM_ERROR
Z_DATA_ERROR: int = GENERATED.Z_DATA_ERROR
Z_MEM_ERROR: int = GENERATED.Z_MEM_ERROR
Z_BUF_ERROR: int = GENERATED.Z_BUF_ERROR
Z_VERSION_ERROR: int = GENERATED.Z_VERSION_ERROR
VERSION: bytes = GENERATED.ZLIB_VERSION.encode()

# What each zlib function may return; anything else means the sandbox misbehaved.
DEFLATE_CODES = frozenset({Z_OK, Z_STREAM_END, Z_STREAM_ERROR, Z_BUF_ERROR})
INFLATE_CODES = frozenset({Z_OK, Z_STREAM_END, Z_NEED_DICT, Z_STREAM_ERROR, Z_DATA_ERROR,
                           Z_MEM_ERROR, Z_BUF_ERROR})
INIT_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_MEM_ERROR, Z_VERSION_ERROR})
END_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_DATA_ERROR})
DICT_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_DATA_ERROR})
COPY_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_MEM_ERROR})


# -- the boundary, declared by hand ---------------------------------------------------
# The generated package is written into the build cache when this module is imported,
# so mypy cannot see its stubs (the ``__init__.pyi`` beside it). The protocols below
# re-declare by hand the part of those stubs this package calls (narrower: a stream
# argument is a ``ZStream`` where the stub takes any pointer), and ``Session`` casts
# the proxy to ``ZlibProxy``. Nothing checks them against the generated stubs: change
# them together with ``zlib.toml``. At run time every call still goes through the
# generated proxy and its argument checks.


class ZStream(Protocol):
    """The generated ``z_stream_s`` view: fields read back tainted."""

    @property
    def avail_in(self) -> Tainted[int]: ...
    @avail_in.setter
    def avail_in(self, value: int) -> None: ...
    @property
    def next_in(self) -> TaintedPtr: ...
    @next_in.setter
    def next_in(self, value: int) -> None: ...
    @property
    def avail_out(self) -> Tainted[int]: ...
    @avail_out.setter
    def avail_out(self, value: int) -> None: ...
    @property
    def next_out(self) -> TaintedPtr: ...
    @next_out.setter
    def next_out(self, value: int) -> None: ...
    @property
    def msg(self) -> TaintedPtr: ...


class Memory(Protocol):
    def read(self, address: int, length: int) -> bytes: ...
    def write(self, address: int, data: bytes | bytearray | memoryview) -> None: ...
    def view(self, address: int, length: int) -> memoryview: ...
    @property
    def size(self) -> int: ...


class SandboxView(Protocol):
    memory: Memory
    isolated: bool
    model: Any
    library: Any


class ZlibHelpers(Protocol):
    def zlibVersion(self) -> Tainted[bytes] | None: ...


class ZlibProxy(Protocol):
    """The generated ``Zlib`` proxy: the functions the spec exports."""

    sandbox: SandboxView
    helpers: ZlibHelpers

    def close(self) -> None: ...
    def alloc(self, size: int) -> Allocation: ...
    def new(self, struct: Any) -> tuple[ZStream, Allocation]: ...
    @property
    def poisoned(self) -> str | None: ...

    def deflateInit2_(self, strm: ZStream, level: int, method: int, windowBits: int,
                      memLevel: int, strategy: int, version: Allocation,
                      stream_size: int) -> Tainted[int]: ...
    def deflate(self, strm: ZStream, flush: int) -> Tainted[int]: ...
    def deflateEnd(self, strm: ZStream) -> Tainted[int]: ...
    def deflateSetDictionary(self, strm: ZStream, dictionary: Allocation,
                             dictLength: int) -> Tainted[int]: ...
    def deflateCopy(self, dest: ZStream, source: ZStream) -> Tainted[int]: ...
    def inflateInit2_(self, strm: ZStream, windowBits: int, version: Allocation,
                      stream_size: int) -> Tainted[int]: ...
    def inflate(self, strm: ZStream, flush: int) -> Tainted[int]: ...
    def inflateEnd(self, strm: ZStream) -> Tainted[int]: ...
    def inflateSetDictionary(self, strm: ZStream, dictionary: Allocation,
                             dictLength: int) -> Tainted[int]: ...
    def inflateCopy(self, dest: ZStream, source: ZStream) -> Tainted[int]: ...
    def crc32_z(self, crc: int, buf: Allocation, len: int) -> Tainted[int]: ...
    def adler32_z(self, adler: int, buf: Allocation, len: int) -> Tainted[int]: ...
