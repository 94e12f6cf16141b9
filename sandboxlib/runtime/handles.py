"""Host objects handed to a sandbox as opaque handles (RLBox's app pointers).

A host object never enters a sandbox. ``sandbox.handles.new(obj)`` returns a
``Handle``, which can be passed wherever the C side takes a pointer (typically a
``void *user`` given back to a callback); the sandbox sees only an index into that
sandbox's own table. Indices are random 31-bit numbers, so an index the sandbox
forges (by arithmetic on one it saw, or by guessing) names no entry. When a value
comes back out (a result, a callback argument, a struct field, all tainted),
``sandbox.handles.get(value, Kind)`` looks it up: an index this table did not
issue, one that was released, or one naming an object of another type raises
``TaintError`` naming where the value came from and the value.
"""

from __future__ import annotations

import secrets
from typing import Any, Generic, TypeVar, overload

from ..errors import ArgumentError, ResourceError, TaintError
from ..taint import Tainted, TaintedPtr, short_repr
from .objects import Owner

T = TypeVar("T")

INDEX_BITS = 31  # positive as int32_t, intptr_t and a pointer of any width
MAX_HANDLES = 1 << 20  # live handles per sandbox; far below 2**31 so guessing stays hopeless


class Handle(Generic[T]):
    """A host object registered in one sandbox's table; pass it as a pointer argument."""

    __slots__ = ("_table", "index", "obj")

    def __init__(self, table: HandleTable, index: int, obj: T) -> None:
        self._table = table
        self.index = index
        self.obj = obj

    def address_in(self, sandbox: object, where: str) -> int:
        """The index the sandbox sees (what the marshaller passes for this argument)."""
        if sandbox is not self._table.sandbox:
            raise ArgumentError(f"{where}: handle {self!r} belongs to another sandbox")
        if not self.index:
            raise ArgumentError(f"{where}: handle to {short_repr(self.obj)} was released")
        return self.index

    def release(self) -> None:
        """Remove the object from the table; a later lookup of the index fails."""
        self._table._drop(self)

    def __enter__(self) -> Handle[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        state = f"0x{self.index:x}" if self.index else "released"
        return f"Handle({state}, {short_repr(self.obj)})"


class HandleTable:
    """One sandbox's table of host objects, keyed by the index the sandbox sees."""

    __slots__ = ("sandbox", "_entries")

    def __init__(self, sandbox: Owner) -> None:
        self.sandbox = sandbox
        self._entries: dict[int, Handle[Any]] = {}

    def new(self, obj: T) -> Handle[T]:
        """Register ``obj``; the returned handle is what the sandbox may hold."""
        self.sandbox._check_usable()
        if len(self._entries) >= MAX_HANDLES:
            raise ResourceError(f"{self._name}: {MAX_HANDLES} live handles; release some")
        index = 0
        while not index or index in self._entries:
            index = secrets.randbits(INDEX_BITS)
        handle = Handle(self, index, obj)
        self._entries[index] = handle
        return handle

    @overload
    def get(self, value: Tainted[int]) -> object: ...

    @overload
    def get(self, value: Tainted[int], kind: type[T]) -> T: ...

    def get(self, value: Tainted[int], kind: type[Any] = object) -> Any:
        """The object whose index ``value`` is, if it is an instance of ``kind``;
        otherwise ``TaintError``. ``value`` comes from the sandbox, hence tainted."""
        if not isinstance(value, Tainted):
            raise TaintError(f"{self._name}: handles.get() takes the tainted value the sandbox "
                             f"returned, got {type(value).__name__} {short_repr(value)}")
        if isinstance(value, TaintedPtr) and not value.belongs_to(self.sandbox.memory):
            raise TaintError(f"{value.origin}: {value!r} comes from another sandbox, "
                             f"not from {self._name}")
        index = value.unverified_safe_because("only looked up in the table, never dereferenced")
        handle = self._entries.get(index) if type(index) is int else None
        if handle is None:
            shown = f"0x{index:x}" if type(index) is int and index >= 0 else short_repr(index)
            raise TaintError(f"{value.origin}: {shown} is not a live handle of {self._name} "
                             "(forged, released, or issued by another sandbox)")
        if not isinstance(handle.obj, kind):
            raise TaintError(f"{value.origin}: handle 0x{index:x} names a "
                             f"{type(handle.obj).__name__}, not a {kind.__name__}")
        return handle.obj

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        """Release every handle (the sandbox is closing)."""
        for handle in self._entries.values():
            handle.index = 0
        self._entries.clear()

    @property
    def _name(self) -> str:
        return f"the {self.sandbox.label} sandbox"

    def _drop(self, handle: Handle[Any]) -> None:
        if handle.index and self._entries.get(handle.index) is handle:
            del self._entries[handle.index]
        handle.index = 0
