"""The z_stream driver behind ``wrapped.zlib``: sandboxes, sandbox-side buffers, checks.

Before every deflate/inflate call the host writes ``next_in``, ``avail_in``,
``next_out`` and ``avail_out`` itself (the sandbox's own copies of them are never
reused), and everything read back -- the return code, ``avail_in``, ``avail_out``,
``msg`` -- is checked against what was given before the host acts on it.
"""

from __future__ import annotations

import atexit
import os
import re
import struct
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

from sandboxlib import Allocation, Limits, SandboxError, Tainted, TaintError, TaintedPtr
from sandboxlib.codegen.packages import load_generated
from sandboxlib.library import BACKEND_ENV

GENERATED: Any = load_generated(Path(__file__).with_name("zlib.toml"))
"""The generated low-level proxy package (typed by the protocols below)."""

Z_OK: int = GENERATED.Z_OK
Z_STREAM_END: int = GENERATED.Z_STREAM_END
Z_NEED_DICT: int = GENERATED.Z_NEED_DICT
Z_STREAM_ERROR: int = GENERATED.Z_STREAM_ERROR
Z_DATA_ERROR: int = GENERATED.Z_DATA_ERROR
Z_MEM_ERROR: int = GENERATED.Z_MEM_ERROR
Z_BUF_ERROR: int = GENERATED.Z_BUF_ERROR
Z_VERSION_ERROR: int = GENERATED.Z_VERSION_ERROR
VERSION: bytes = GENERATED.ZLIB_VERSION.encode()

UINT_MAX = 0xFFFFFFFF
MEMORY_LIMIT = 1 << 30
"""Linear memory a zlib sandbox may grow to (the input and one output block live there)."""
RETAIN_LIMIT = 64 << 20
"""A per-thread sandbox whose memory grew past this is dropped after the call."""
FIRST_BLOCK_MAX = 16 << 20
"""Cap on an initial output block (``bufsize``/``length``): it only sets speed."""

# What each zlib function may return; anything else means the sandbox misbehaved.
DEFLATE_CODES = frozenset({Z_OK, Z_STREAM_END, Z_STREAM_ERROR, Z_BUF_ERROR})
INFLATE_CODES = frozenset({Z_OK, Z_STREAM_END, Z_NEED_DICT, Z_STREAM_ERROR, Z_DATA_ERROR,
                           Z_MEM_ERROR, Z_BUF_ERROR})
INIT_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_MEM_ERROR, Z_VERSION_ERROR})
END_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_DATA_ERROR})
DICT_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_DATA_ERROR})
COPY_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_MEM_ERROR})

# CPython's output block sizes (Include/internal/pycore_blocks_output_buffer.h).
_KB, _MB = 1 << 10, 1 << 20
BLOCKS = (32 * _KB, 64 * _KB, 256 * _KB, 1 * _MB, 4 * _MB, 8 * _MB, 16 * _MB, 16 * _MB,
          32 * _MB, 32 * _MB, 32 * _MB, 32 * _MB, 64 * _MB, 64 * _MB, 128 * _MB, 128 * _MB,
          256 * _MB)

_MESSAGE = re.compile(rb"[\x20-\x7e]*")


class error(SandboxError):
    """Raised by wrapped.zlib for zlib errors, and for a sandbox that failed (a trap,
    a limit, a value that did not verify)."""


error.__module__ = "wrapped.zlib"


class LimitExceeded(error):
    """The output guard (``max_output``) stopped a decompression."""


# -- the boundary: the generated proxy as this package uses it ----------------------


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


def insist(ok: bool, what: str) -> None:
    """A check on the sandbox's behaviour that real zlib always passes."""
    if not ok:
        raise TaintError(f"zlib in the sandbox misbehaved: {what}")


def zlib_error(code: int, what: str, msg: str | None) -> error:
    """The error CPython's zlib raises for ``code`` (same wording)."""
    if code == Z_VERSION_ERROR:
        msg = "library version mismatch"
    if msg is None:
        msg = {Z_BUF_ERROR: "incomplete or truncated stream",
               Z_STREAM_ERROR: "inconsistent stream state",
               Z_DATA_ERROR: "invalid input data"}.get(code)
    return error(f"Error {code} {what}" if msg is None else f"Error {code} {what}: {msg}")


# -- sandboxes ----------------------------------------------------------------------


def backend_name(backend: str | None) -> str:
    return backend or os.environ.get(BACKEND_ENV) or "wasmtime"


class Session:
    """One sandbox of the zlib proxy; the streams in it share its lock."""

    def __init__(self, backend: str | None) -> None:
        self.backend = backend_name(backend)
        self.lock = threading.RLock()
        self.users = 0
        self.closed = False
        self.busy = False
        self._scratch: Stream | None = None
        try:
            proxy = GENERATED.sandbox(self.backend, limits=Limits(memory_bytes=MEMORY_LIMIT))
        except SandboxError as exc:
            raise error(f"cannot start a zlib sandbox on {self.backend!r}: {exc}") from exc
        self.lib = cast(ZlibProxy, proxy)
        _live.add(self)
        try:
            self.version = self.lib.alloc(len(VERSION) + 1)  # the string deflateInit2_ checks
            self.version.write(VERSION + b"\0")
        except SandboxError as exc:
            self.close()
            raise error(f"cannot prepare a zlib sandbox on {self.backend!r}: {exc}") from exc

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.lib.close()

    def release(self) -> None:
        """One user is done; the last one closes the sandbox."""
        self.users -= 1
        if self.users <= 0:
            self.close()

    def scratch(self) -> Stream:
        """The reusable stream of a per-thread session, zeroed for a new operation."""
        if self._scratch is None:
            self._scratch = Stream(self)
        else:
            self._scratch.reset()
        return self._scratch

    @property
    def oversized(self) -> bool:
        return self.lib.sandbox.isolated and self.lib.sandbox.memory.size > RETAIN_LIMIT


_local = threading.local()
_live: weakref.WeakSet[Session] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Close the sandboxes still open at exit, while the engines can still free them."""
    for session in list(_live):
        session.close()


@contextmanager
def borrowed(backend: str | None, what: str) -> Iterator[Session]:
    """This thread's sandbox for ``backend``, for one module-level call. After any
    error it is closed and replaced; a sandbox that grew large is dropped too."""
    sessions: dict[tuple[str, int], Session] = _local.__dict__.setdefault("sessions", {})
    key = (backend_name(backend), MEMORY_LIMIT)
    session = sessions.get(key)
    if session is None or session.closed or session.lib.poisoned is not None:
        session = sessions[key] = Session(backend)
        session.users = 1  # the cache's own hold: streams come and go
    elif session.busy:  # re-entered on this thread (a finalizer, a signal handler)
        session = Session(backend)
        key = ("", 0)      # used once, never cached
    session.busy = True
    try:
        yield session
    except BaseException as exc:
        sessions.pop(key, None)
        session.close()
        if isinstance(exc, SandboxError) and not isinstance(exc, error):
            raise error(f"zlib sandbox ({session.backend}) failed while {what}: {exc}") from exc
        raise
    finally:
        session.busy = False
    if session.oversized or sessions.get(key) is not session:
        sessions.pop(key, None)
        session.close()


# -- output -------------------------------------------------------------------------


class Output:
    """CPython's block output buffer, so zlib sees the same ``avail_out`` at every call
    as under CPython (level 0 output depends on it); each block lives in sandbox
    memory and is copied out as it fills. ``limit`` caps the total: the last block is
    cut to one byte past it, and producing that byte raises ``LimitExceeded``."""

    def __init__(self, first: int, max_length: int = -1, limit: int | None = None,
                 over: str = "") -> None:
        self.data = bytearray()
        self.blocks = 1
        self.allocated = first
        self.max_length = max_length
        self.limit = limit
        self.over = over
        self.used = 0
        self.size = self._cut(first)

    @classmethod
    def grown(cls, max_length: int = -1, limit: int | None = None, over: str = "") -> Output:
        """CPython's ``OutputBuffer_InitAndGrow``: a first block of 32 KiB (or max_length)."""
        first = max_length if 0 <= max_length < BLOCKS[0] else BLOCKS[0]
        return cls(first, max_length, limit, over)

    def _cut(self, size: int) -> int:
        if self.limit is not None:
            size = min(size, self.limit - len(self.data) + 1)
        return size

    @property
    def avail(self) -> int:
        return self.size - self.used

    def grow(self) -> None:
        size = BLOCKS[min(self.blocks, len(BLOCKS) - 1)]
        if self.max_length >= 0:
            size = min(size, self.max_length - self.allocated)
        self.blocks += 1
        self.allocated += size
        self.used = 0
        self.size = self._cut(size)

    def take(self, produced: memoryview) -> None:
        self.data += produced
        self.used += len(produced)
        if self.limit is not None and len(self.data) > self.limit:
            raise LimitExceeded(self.over)


# -- one z_stream ---------------------------------------------------------------------


class _Pairs:
    """The two (pointer, length) pairs set before every call -- next_in/avail_in and
    next_out/avail_out -- packed at the offsets of the generated struct's layout:
    one memory write per pair instead of a checked setter per field (~7 us each)."""

    def __init__(self, model: Any) -> None:
        layout = GENERATED.z_stream_s.layout(model)
        size = model.pointer_size
        self.at_in, self.at_out = layout.offsets["next_in"], layout.offsets["next_out"]
        for pointer, count in (("next_in", "avail_in"), ("next_out", "avail_out")):
            if layout.offsets[count] != layout.offsets[pointer] + size:
                raise error(f"unexpected z_stream layout in {model.name}: {layout}")
        order = "<" if model.name == "wasm32" else "="
        self.pair = struct.Struct(order + ("I" if size == 4 else "Q") + "I")
        self.count = struct.Struct(order + "I")
        self.size = size


class Stream:
    """One z_stream in a session: its struct, input buffer and output buffer. The host
    keeps ``next_in``/``avail_in`` (as an offset into its own copy of the input) and
    writes both pairs before every call; the sandbox's values are only read back."""

    KEEP = 1 << 20  # buffers larger than this are freed between operations

    def __init__(self, session: Session) -> None:
        lib = session.lib
        self.session = session
        self.lib = lib
        self.memory = lib.sandbox.memory
        self.z, self._struct = lib.new(GENERATED.z_stream_s)
        session.users += 1
        self.struct_size: int = GENERATED.z_stream_s.sizeof(lib.sandbox.model)
        self._pairs = _Pairs(lib.sandbox.model)
        self._in: Allocation | None = None
        self._out: Allocation | None = None
        self.pos = 0          # next_in, as an offset into the input
        self.avail_in = 0
        self.unarranged = 0   # input not yet handed to zlib (inputs over UINT_MAX)
        self.released = False

    def reset(self) -> None:
        """Zero the struct for a new operation; drop large buffers."""
        self._struct.write(bytes(self.struct_size))
        for name in ("_in", "_out"):
            alloc: Allocation | None = getattr(self, name)
            if alloc is not None and alloc.size > self.KEEP:
                alloc.free()
                setattr(self, name, None)

    # buffers
    def _buffer(self, current: Allocation | None, size: int) -> Allocation:
        if current is not None and current.size >= size:
            return current
        if current is not None:
            current.free()
        return self.lib.alloc(max(size, 1))

    def feed(self, data: memoryview) -> None:
        """Copy the input for the next calls into the sandbox (one copy)."""
        if len(data):
            self._in = self._buffer(self._in, len(data))
            self._in.write(data)
        self.pos, self.avail_in, self.unarranged = 0, 0, len(data)

    def arrange(self) -> int:
        """CPython's ``arrange_input_buffer``: hand zlib up to UINT_MAX more bytes;
        returns how many remain unarranged."""
        self.avail_in = min(self.unarranged, UINT_MAX)
        self.unarranged -= self.avail_in
        return self.unarranged

    def copy_in(self, data: memoryview) -> Allocation:
        """A separate copy of ``data`` in the sandbox (the caller frees it)."""
        alloc = self.lib.alloc(max(len(data), 1))
        if len(data):
            alloc.write(data)
        return alloc

    def _count(self, at: int, given: int, name: str) -> int:
        """The length of the pair at ``at``, read back: tainted until it is within what
        was given."""
        pairs = self._pairs
        raw = self.memory.read(self._struct.address + at + pairs.size, 4)
        value: Tainted[int] = Tainted(pairs.count.unpack(raw)[0], f"z_stream.{name}")
        return value.verify_range(0, given)

    # calls
    def call(self, deflating: bool, flush: int, out: Output) -> int:
        """One deflate/inflate call from the current input into the current block;
        returns the verified code, advances the input and takes the output."""
        given_in, room, pairs = self.avail_in, out.avail, self._pairs
        self._out = self._buffer(self._out, out.size)
        next_in = self._in.address + self.pos if given_in and self._in is not None else 0
        next_out = self._out.address + out.used
        base = self._struct.address
        self.memory.write(base + pairs.at_in, pairs.pair.pack(next_in, given_in))
        self.memory.write(base + pairs.at_out, pairs.pair.pack(next_out, room))
        if deflating:
            code = self.lib.deflate(self.z, flush).verify_in(DEFLATE_CODES)
        else:
            code = self.lib.inflate(self.z, flush).verify_in(INFLATE_CODES)
        left_in = self._count(pairs.at_in, given_in, "avail_in")
        left_out = self._count(pairs.at_out, room, "avail_out")
        self.pos += given_in - left_in
        self.avail_in = left_in
        if left_out < room:
            out.take(self.memory.view(next_out, room - left_out))
        return code

    def deflate_init(self, level: int, method: int, wbits: int, mem_level: int,
                     strategy: int) -> int:
        return self.lib.deflateInit2_(self.z, level, method, wbits, mem_level, strategy,
                                      self.session.version,
                                      self.struct_size).verify_in(INIT_CODES)

    def inflate_init(self, wbits: int) -> int:
        return self.lib.inflateInit2_(self.z, wbits, self.session.version,
                                      self.struct_size).verify_in(INIT_CODES)

    def set_dictionary(self, deflating: bool, zdict: memoryview) -> int:
        alloc = self.copy_in(zdict)
        try:
            fn = self.lib.deflateSetDictionary if deflating else self.lib.inflateSetDictionary
            return fn(self.z, alloc, len(zdict)).verify_in(DICT_CODES)
        finally:
            alloc.free()

    def end(self, deflating: bool) -> int:
        fn = self.lib.deflateEnd if deflating else self.lib.inflateEnd
        return fn(self.z).verify_in(END_CODES)

    def copy_from(self, source: Stream, deflating: bool) -> int:
        fn = self.lib.deflateCopy if deflating else self.lib.inflateCopy
        return fn(self.z, source.z).verify_in(COPY_CODES)

    def message(self) -> str | None:
        """``msg``, if set: at most 200 printable ASCII characters, else a placeholder."""
        pointer = self.z.msg
        if pointer.is_null():
            return None
        try:
            text = pointer.copy_and_verify_string(
                255, lambda b: _MESSAGE.fullmatch(b) is not None, "printable ASCII")
        except SandboxError:
            return "(the sandbox's message did not verify)"
        return text[:200].decode("ascii")

    def release(self) -> None:
        """Give the buffers back and leave the session (the last user closes it)."""
        if self.released:
            return
        self.released = True
        session = self.session
        if not session.closed and session.lib.poisoned is None:
            for alloc in (self._in, self._out, self._struct):
                if alloc is not None:
                    alloc.free()
        self._in = self._out = None
        session.release()


def output_bound(total_in: int, calls: int) -> int:
    """More than deflate can emit for ``total_in`` bytes over ``calls`` calls (zlib's
    deflateBound for any parameters, plus flush markers and the gzip wrapper)."""
    return total_in + ((total_in + 7) >> 3) + ((total_in + 63) >> 6) + 1024 + 64 * calls
