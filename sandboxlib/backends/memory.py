"""Bounds-checked access to a sandbox's linear memory, shared by every backend.

Every access is checked against the memory's *current* size for the whole span
(Python integers cannot overflow, so ``address + length`` is exact). The native
backend has no sandbox memory: its region is the whole address space and only
NULL and negative values are refused (it isolates nothing by design).
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple, Protocol

import cffi

from .._boundary import REGION_CLOSED, Region
from ..errors import BoundsError, ClosedError, TaintError

_ffi = cffi.FFI()
_CHARP = _ffi.typeof("char *")


class RawMemory(Protocol):
    """What a backend exposes: where its memory is and how large it is right now."""

    def region(self) -> tuple[int, int]:
        """(host address of byte 0, size in bytes) at this moment."""
        ...

    def pin(self) -> Any:
        """A cdata pointer at byte 0 that keeps the memory mapped, at the same
        address and never given to another sandbox, for as long as it lives (buffers
        made over it hold it); None for the host's own memory (native backend)."""
        ...

    def access(self) -> RegionAccess:
        """How compiled code finds the memory's base and size (``Region._attach``)."""
        ...

    def grow(self, pages: int) -> bool:
        """Grow the memory by ``pages`` wasm pages, as memory.grow would (within the
        sandbox's limit); False if it cannot."""
        ...


class RegionAccess(NamedTuple):
    """How compiled code finds a memory (``Region._attach``): ``form`` REGION_UNIFORM
    calls ``fn(ctx, &base, &size)`` (an sbx_region_fn); ``keep`` keeps them valid and
    ``release(ctx)``, if not 0, is called when the region is detached."""

    form: int
    fn: int = 0
    ctx: int = 0
    keep: Any = None
    release: int = 0


CLOSED = RegionAccess(REGION_CLOSED)


class _Released:
    """The memory of a closed sandbox: every access refuses (it may be unmapped)."""

    __slots__ = ("_label",)

    def __init__(self, label: str) -> None:
        self._label = label

    def region(self) -> tuple[int, int]:
        raise ClosedError(f"{self._label}: the sandbox is closed; its memory is gone")

    def pin(self) -> Any:
        return self.region()

    def access(self) -> RegionAccess:
        return CLOSED

    def grow(self, pages: int) -> bool:
        self.region()
        return False


class Memory(Region):
    """Checked reads and writes of one sandbox's memory. ``read``, ``write`` and
    ``read_cstring`` run compiled (``Region``) when the span is in bounds; the
    ``_*_slow`` methods below do the rest and raise the errors."""

    __slots__ = ("_raw", "_label", "_whole")

    def __init__(self, raw: RawMemory, label: str) -> None:
        self._raw = raw
        self._label = label
        self._whole: tuple[int, memoryview] | None = None
        self._attach(*raw.access())

    def close(self) -> None:
        """Refuse every later access: pointers into a closed sandbox outlive its
        memory, and reading through them must not touch freed host memory."""
        self._detach()
        self._raw = _Released(self._label)
        self._whole = None

    def whole(self) -> memoryview:
        """The whole memory as one zero-copy view, indexed by sandbox address (slices
        are bounds-checked by Python). The view and every slice of it keep this
        sandbox's memory mapped while they live, even past ``close()``: they never
        show another sandbox's memory. The same view is returned while the memory
        has not grown, so taking it costs one region query. Not on the native backend
        (its "memory" is the host's address space)."""
        whole = self._pinned_whole()
        if whole is None:
            raise BoundsError(f"{self._label}: this memory is the host address space; "
                              "read it with bounds-checked spans")
        return whole

    def _pinned_whole(self) -> memoryview | None:
        """The cached whole view (remade, with a new pin, when the memory grew), or
        None for host memory."""
        base, size = self._raw.region()
        whole = self._whole
        if whole is None or whole[0] != base or len(whole[1]) != size:
            keeper = self._raw.pin()
            if keeper is None:
                return None
            whole = self._whole = (base, memoryview(_ffi.buffer(keeper, size)))
        return whole[1]

    @property
    def size(self) -> int:
        return self._raw.region()[1]

    def _span(self, address: int, length: int, what: str) -> int:
        """Host address of ``[address, address+length)`` after checking it lies inside."""
        if type(address) is not int or type(length) is not int:
            raise BoundsError(f"{self._label}: {what}: address and length must be int, "
                              f"got {address!r}, {length!r}")
        base, size = self._raw.region()
        if address < 0 or length < 0 or address + length > size:
            raise BoundsError(f"{self._label}: {what}: span [0x{address:x}, +{length}) is outside "
                              f"the sandbox memory of {size} bytes")
        if address == 0 and length:
            raise BoundsError(f"{self._label}: {what}: NULL pointer")
        return base + address

    def _read_slow(self, address: int, length: int) -> bytes:
        """Copy ``length`` bytes out of the sandbox."""
        host = self._span(address, length, f"read of {length} bytes")
        return _ffi.buffer(_ffi.cast(_CHARP, host), length)[:] if length else b""

    def _write_slow(self, address: int, data: bytes | bytearray | memoryview) -> None:
        """Copy ``data`` into the sandbox at ``address``."""
        length = len(data)
        host = self._span(address, length, f"write of {length} bytes")
        if length:
            _ffi.memmove(_ffi.cast(_CHARP, host), data, length)

    def view(self, address: int, length: int) -> memoryview:
        """A zero-copy view of sandbox memory: a slice of ``whole()``, so it keeps
        this sandbox's memory alive as ``whole()`` does (on the native backend, a
        view of host memory)."""
        host = self._span(address, length, f"view of {length} bytes")
        whole = self._pinned_whole()
        if whole is None:
            return memoryview(_ffi.buffer(_ffi.cast(_CHARP, host), length))
        return whole[address:address + length]

    def _read_cstring_slow(self, address: int, max_len: int) -> bytes:
        """A NUL-terminated string of at most ``max_len`` bytes (the NUL excluded)."""
        if type(max_len) is not int or max_len < 0:
            raise TaintError(f"{self._label}: max_len must be a non-negative int, got {max_len!r}")
        base, size = self._raw.region()
        if type(address) is not int or address <= 0 or address >= size:
            raise BoundsError(f"{self._label}: string pointer 0x{address:x} is outside the "
                              f"sandbox memory of {size} bytes" if isinstance(address, int)
                              else f"{self._label}: string pointer {address!r} is not an int")
        limit = min(max_len + 1, size - address)
        text: bytes = _ffi.string(_ffi.cast(_CHARP, base + address), limit)
        if len(text) == max_len + 1:
            raise TaintError(f"{self._label}: string at 0x{address:x} is longer than "
                             f"max_len={max_len}")
        if len(text) == limit:
            raise BoundsError(f"{self._label}: string at 0x{address:x} runs off the end of the "
                              f"sandbox memory ({size} bytes) without a NUL")
        return text

    def write_struct(self, address: int, fmt: str, *values: object) -> None:
        """Pack a ``struct`` format at ``address`` (bounds-checked like ``write``)."""
        self.write(address, struct.pack(fmt, *values))
