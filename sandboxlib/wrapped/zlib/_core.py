"""The z_stream driver behind ``sandboxlib.wrapped.zlib``: sandboxes, sandbox-side buffers, checks.

Before every deflate/inflate call the host writes ``next_in``, ``avail_in``,
``next_out`` and ``avail_out`` itself (the sandbox's own copies of them are never
reused), and everything read back -- the return code, ``avail_in``, ``avail_out``,
``msg`` -- is checked against what was given before the host acts on it.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple, Union

from sandboxlib import Allocation, Limits, SandboxError, UnknownBackendError
from sandboxlib.backends.memory import Memory
from sandboxlib.runtime.snapshot import Snapshot
from sandboxlib.wrapped._skeleton import Kept, PerThread, resolve_backend

from . import _package
from ._errors import error
from ._library import (COPY_CODES, DEFLATE_CODES, DICT_CODES, END_CODES, INFLATE_CODES,
                       INIT_CODES, VERSION)
from ._package import Z_OK
from ._output import Output

UINT_MAX = 0xFFFFFFFF
MEMORY_LIMIT = 1 << 30
"""Linear memory a zlib sandbox may grow to (the input and one output block live there)."""
RETAIN_LIMIT = 64 << 20
"""A per-thread sandbox whose memory grew past this is dropped after the call."""
FIRST_BLOCK_MAX = 16 << 20
"""Cap on an initial output block (``bufsize``/``length``): it only sets speed."""
WARM_BUFFERS = (128 << 10, 256 << 10)
"""The input and output buffers a warm stream starts with (a request's 76 KB in, and
CPython's first three output blocks, each in turn: no malloc or free for either)."""
WARM_KEYS = 32
"""Initializations (function and arguments) a process keeps a warm snapshot of."""

_MESSAGE = re.compile(rb"[\x20-\x7e]*")
_log = logging.getLogger("sandboxlib")


# -- sandboxes ----------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _limits(memory_bytes: int) -> Limits:
    """A zlib sandbox's limits: one object per value (caches every new sandbox looks up
    key on it, and hash it once)."""
    return Limits(memory_bytes=memory_bytes)


Span = tuple[int, int]  # a block's address and size


class Warm(NamedTuple):
    """A stream just initialized, in a sandbox no caller's data had reached: the
    snapshot new streams start from, and where the blocks the host allocated are in it."""

    snapshot: Snapshot[_package.Zlib]
    version: Span
    struct: Span
    buffers: tuple[Span, Span]  # input, output


class Carried(NamedTuple):
    """A block the warm snapshot's sandbox allocated, where each sandbox started from it
    has it too: the sandbox's own (the host holds no ``Allocation`` for it, and never
    frees it: the sandbox is closed with the stream)."""

    memory: Memory
    address: int
    size: int

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.memory.write(self.address, data)


Block = Union[Allocation, Carried]


def give_back(block: Block | None) -> None:
    """Free ``block`` if the host allocated it here."""
    if isinstance(block, Allocation):
        block.free()


_warm: dict[tuple[object, ...], Warm | None] = {}  # by initialization; None: not kept
_warm_lock = threading.Lock()


class Session(Kept["_package.Zlib"]):
    """One sandbox of the zlib proxy (new, or from ``warm``'s snapshot); the streams in
    it share its lock."""

    def __init__(self, backend: str | None, warm: Warm | None = None) -> None:
        name = resolve_backend(backend)  # an unknown name: UnknownBackendError, a ValueError
        limits = _limits(MEMORY_LIMIT)
        try:
            proxy = (_package.sandbox(name, limits=limits) if warm is None
                     else warm.snapshot.sandbox(name, limits=limits))
        except SandboxError as exc:
            raise error(f"cannot start a zlib sandbox on {name!r}: {exc}") from exc
        super().__init__(proxy)
        self.backend = name
        self.lock = threading.RLock()
        self.users = 0
        self._scratch: Stream | None = None
        self.version: Block  # the string deflateInit2_ and inflateInit2_ check
        if warm is not None:
            self.version = Carried(self.lib.sandbox.memory, *warm.version)
            return
        try:
            self.version = self.lib.alloc(len(VERSION) + 1)
            self.version.write(VERSION + b"\0")
        except SandboxError as exc:
            self.close()
            raise error(f"cannot prepare a zlib sandbox on {name!r}: {exc}") from exc

    def close(self) -> None:
        super().close()
        self._scratch = None  # (it refers back here: no cycle left for the collector)

    def release(self) -> None:
        """One user is done; the last one closes the sandbox."""
        self.users -= 1
        if self.users <= 0:
            self.close()

    @property
    def last_user(self) -> bool:
        """Whether one stream alone holds the sandbox (which closes when it is done)."""
        return self.users == 1

    def scratch(self) -> Stream:
        """The reusable stream of a per-thread session, zeroed for a new operation."""
        if self._scratch is None:
            self._scratch = Stream(self)
        else:
            self._scratch.reset()
        return self._scratch

    @property
    def reusable(self) -> bool:
        """Not closed, not poisoned, and (isolated) its memory not grown past
        ``RETAIN_LIMIT``."""
        return super().reusable and not (self.lib.sandbox.isolated and
                                         self.lib.sandbox.memory.size > RETAIN_LIMIT)


def _thread_session(backend: str) -> Session:
    session = Session(backend)
    session.users = 1  # the thread's own hold: streams come and go
    return session


_sessions = PerThread(_thread_session)
"""Each thread's session per backend, for the module-level functions."""


@contextmanager
def borrowed(backend: str | None, what: str) -> Iterator[Session]:
    """This thread's sandbox for ``backend``, for one module-level call (``PerThread``:
    after any error it is closed and replaced, and so is one that grew large); a
    sandbox's failure raises ``error``."""
    session: Session | None = None
    try:
        with _sessions.borrow(backend) as session:
            yield session
    except SandboxError as exc:
        if isinstance(exc, (error, UnknownBackendError)):  # misuse stays a ValueError
            raise
        if session is None:
            raise error(f"cannot start a zlib sandbox: {exc}") from exc
        raise error(f"zlib sandbox ({session.backend}) failed while {what}: {exc}") from exc


# -- one z_stream ---------------------------------------------------------------------


class Stream:
    """One z_stream in a session: its struct, input buffer and output buffer. The host
    keeps ``next_in``/``avail_in`` (as an offset into its own copy of the input) and
    writes both pairs before every call; the sandbox's values are only read back."""

    KEEP = 1 << 20  # buffers larger than this are freed between operations

    def __init__(self, session: Session, warm: Warm | None = None) -> None:
        lib = session.lib
        self.session = session
        self.lib = lib
        self.memory = lib.sandbox.memory
        self._in: Block | None = None
        self._out: Block | None = None
        self._struct: Block
        self.ready = warm is not None  # initialized already (started from ``warm``)
        if warm is None:
            self.z, self._struct = lib.new(_package.z_stream_s)
        else:
            self._struct, self._in, self._out = (Carried(self.memory, *span) for span in
                                                 (warm.struct, *warm.buffers))
            self.z = lib.view(_package.z_stream_s, self._struct.address)
        session.users += 1
        self.struct_size = _package.z_stream_s.sizeof(lib.sandbox.model)
        self.pos = 0          # next_in, as an offset into the input
        self.avail_in = 0
        self.unarranged = 0   # input not yet handed to zlib (inputs over UINT_MAX)
        self.released = False

    def reset(self) -> None:
        """Zero the struct for a new operation; drop large buffers."""
        self._struct.write(bytes(self.struct_size))
        for name in ("_in", "_out"):
            block: Block | None = getattr(self, name)
            if block is not None and block.size > self.KEEP:
                give_back(block)
                setattr(self, name, None)

    # buffers
    def _buffer(self, current: Block | None, size: int) -> Block:
        if current is not None and current.size >= size:
            return current
        give_back(current)
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

    # calls
    def call(self, deflating: bool, flush: int, out: Output) -> int:
        """One deflate/inflate call from the current input into the current block;
        returns the verified code, advances the input and takes the output."""
        given_in, room, z = self.avail_in, out.avail, self.z
        self._out = self._buffer(self._out, out.size)
        next_in = self._in.address + self.pos if given_in and self._in is not None else 0
        next_out = self._out.address + out.used
        z.next_in, z.avail_in, z.next_out, z.avail_out = next_in, given_in, next_out, room
        if deflating:
            code = self.lib.deflate(z, flush).verify_in(DEFLATE_CODES)
        else:
            code = self.lib.inflate(z, flush).verify_in(INFLATE_CODES)
        left_in = z.avail_in.verify_range(0, given_in)  # within what was given
        left_out = z.avail_out.verify_range(0, room)
        self.pos += given_in - left_in
        self.avail_in = left_in
        if left_out < room:
            out.take(self.memory.read(next_out, room - left_out))
        return code

    def deflate_init(self, level: int, method: int, wbits: int, mem_level: int,
                     strategy: int) -> int:
        return self.lib.deflateInit2_(self.z, level, method, wbits, mem_level, strategy,
                                      self.session.version.address,
                                      self.struct_size).verify_in(INIT_CODES)

    def inflate_init(self, wbits: int) -> int:
        return self.lib.inflateInit2_(self.z, wbits, self.session.version.address,
                                      self.struct_size).verify_in(INIT_CODES)

    def set_dictionary(self, deflating: bool, zdict: memoryview) -> int:
        alloc = self.copy_in(zdict)
        try:
            fn = self.lib.deflateSetDictionary if deflating else self.lib.inflateSetDictionary
            return fn(self.z, alloc, len(zdict)).verify_in(DICT_CODES)
        finally:
            alloc.free()

    def end(self, deflating: bool) -> int:
        """deflateEnd/inflateEnd; Z_OK without a call when the sandbox is this stream's
        alone, since it is closed (and its memory wiped) when the stream is released."""
        if self.session.last_user:
            return Z_OK
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
        if not session.last_user and not session.closed and session.lib.poisoned is None:
            for block in (self._in, self._out, self._struct):
                give_back(block)
        self._in = self._out = None
        session.release()


# -- warm starts --------------------------------------------------------------------


def start(backend: str | None, key: tuple[object, ...]) -> Stream:
    """A stream in a new sandbox of its own: initialized already (``ready``) from the
    snapshot kept for ``key`` (the init function and its arguments), else blank."""
    name = resolve_backend(backend)
    warm = _warm.get(key) if name != "native" else None
    session = Session(name, warm)
    try:
        return Stream(session, warm)
    except BaseException:
        session.close()
        raise


def keep_warm(stream: Stream, key: tuple[object, ...]) -> None:
    """After ``stream`` was initialized for ``key`` in a sandbox of its own that no
    caller's data has reached yet: keep a snapshot of it (with its buffers allocated)
    for the next streams initialized alike (once per key, up to ``WARM_KEYS`` keys)."""
    if key in _warm or len(_warm) >= WARM_KEYS or not stream.lib.sandbox.isolated:
        return
    with _warm_lock:
        if key in _warm:
            return
        stream._in, stream._out = buffers = [stream.lib.alloc(size) for size in WARM_BUFFERS]
        try:
            snapshot = stream.lib.snapshot()
        except SandboxError as exc:  # (a module the snapshot cannot hold: start cold)
            _log.warning("zlib: no warm start for %r: %s", key, exc)
            _warm[key] = None
            return
        version, struct, (data, out) = stream.session.version, stream._struct, buffers
        _warm[key] = Warm(snapshot, (version.address, version.size),
                          (struct.address, struct.size),
                          ((data.address, data.size), (out.address, out.size)))
