"""Reading what expat hands the host: strings, string arrays and event-log batches
copied out of one sandbox's memory, every pointer and length checked."""

from __future__ import annotations

import struct
import sys

from sandboxlib import TaintError, Tainted, TaintedPtr
from sandboxlib.proxy import LibraryProxy


def decode(raw: bytes, what: str) -> str:
    """Strict UTF-8 is the check on text from the sandbox: expat only reports
    well-formed text."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaintError(f"expat {what}: not UTF-8 ({exc})") from None


class Reader:
    """Copies strings, pointer arrays and event-log batches out of one sandbox's memory.

    Every pointer and length is the sandbox's, so unchecked until used: a string is
    at most ``max_len`` bytes (the sandbox's memory limit: none can be longer) and
    must be strict UTF-8. On an isolating backend an event's reads go through a
    *window*, ``Memory.whole()``: one region query per event instead of one per
    string, every slice bounds-checked by Python; a long string, or one outside the
    window, takes the exact path (``Memory`` reads). A window is dropped before
    any user code runs (that code may call into the sandbox, which may move its
    memory). The native backend has no window: reading ahead of a string there
    could touch unmapped host memory.
    """

    PEEK = 256  # a string shorter than this is found in one slice of the window

    def __init__(self, lib: LibraryProxy, max_len: int) -> None:
        sandbox = lib.sandbox
        self.memory = sandbox.memory
        self.max_len = max_len
        self.isolated = sandbox.isolated
        self.ptr_size = sandbox.model.pointer_size
        self.ptr_fmt = "<Q" if self.ptr_size == 8 else "<I"
        self.int_order = "<" if sandbox.isolated else "="  # wasm32 is little-endian
        self.swap = sandbox.isolated and sys.byteorder == "big"

    def window(self) -> memoryview | None:
        return self.memory.whole() if self.isolated else None

    def text(self, window: memoryview | None, ptr: TaintedPtr, what: str) -> str | None:
        """The C string at ``ptr`` (None for NULL)."""
        address = ptr.unverified_safe_because("checked against the window or by copy_string")
        return None if address == 0 else self._string(window, address, what)

    def _string(self, window: memoryview | None, address: int, what: str) -> str:
        """The C string at ``address``, an unchecked non-zero number from the sandbox."""
        if window is not None and 0 < address < len(window):
            chunk = window[address:address + self.PEEK].tobytes()
            end = chunk.find(0)
            if end >= 0:
                return decode(chunk[:end], what)
        try:  # the exact path: Memory checks the pointer and finds the NUL within max_len
            return decode(self.memory.read_cstring(address, self.max_len), what)
        except TaintError as exc:
            raise type(exc)(f"expat {what}: {exc}") from None

    def data(self, window: memoryview | None, ptr: TaintedPtr, length: Tainted[int],
             what: str) -> tuple[str, int]:
        """``length`` bytes at ``ptr`` as text, and the checked length."""
        n = length.verify_range(0, self.max_len)
        if n == 0:
            return "", 0
        address = ptr.unverified_safe_because("checked against the window or by Memory.read")
        if window is not None and 0 < address and address + n <= len(window):
            return decode(window[address:address + n].tobytes(), what), n
        return decode(self._read(address, n, what), what), n

    def span(self, ptr: TaintedPtr, length: int, what: str) -> bytes:
        """``length`` bytes at ``ptr``, exactly bounds-checked (a batch of the log)."""
        address = ptr.unverified_safe_because("Memory.read checks the whole span")
        return self._read(address, length, what) if length else b""

    def _read(self, address: int, n: int, what: str) -> bytes:
        try:
            return self.memory.read(address, n)
        except TaintError as exc:
            raise type(exc)(f"expat {what}: {exc}") from None

    def strings(self, window: memoryview | None, array: TaintedPtr, what: str) -> list[str]:
        """The strings of a NULL-terminated array of string pointers (expat's
        attributes: name, value, name, value, ..., NULL)."""
        out: list[str] = []
        size = self.ptr_size
        limit = self.max_len // size
        address = array.unverified_safe_because("checked against the window or by Memory.read")
        while True:
            start = address + len(out) * size
            if window is not None and 0 < start < len(window):
                block = window[start:start + 16 * size].tobytes()
                block = block[:len(block) - len(block) % size]
            else:
                block = b""
            if not block:  # outside the window, or native: one entry, exactly checked
                block = self._read(start, size, f"{what} array")
            for (entry,) in struct.iter_unpack(self.ptr_fmt, block):
                if entry == 0:
                    return out
                out.append(self._string(window, entry, what))
            if len(out) > limit:
                raise TaintError(f"expat {what} array: more than {limit} entries")
