"""Tainted values: what comes out of a sandbox, unusable until checked.

A ``Tainted[T]`` refuses every implicit use (truth, comparison, arithmetic,
``int()``, indexing, hashing): each raises ``TaintError`` at run time, and none is
visible to a type checker, so mypy rejects ``x: int = t``, ``t + 1``, ``int(t)``,
``t == 5`` (``--strict``) and ``if t:`` (``--enable-error-code truthy-bool``).
The value comes out only through ``verify`` (a predicate the host states) or
``unverified_safe_because`` (an explicit, greppable escape hatch).

A ``TaintedPtr`` is an address inside one sandbox's memory; reading through it is
bounds-checked against that memory's current size, copies out first and checks
the copy (no double fetch), and it may be passed back to the same sandbox only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Container, Generic, NoReturn, Protocol, TypeVar

from .errors import SandboxError, TaintError


class MemoryReader(Protocol):
    """What a tainted pointer reads through: one sandbox's bounds-checked memory
    (``sandboxlib.backends.memory.Memory``)."""

    def read(self, address: int, length: int) -> bytes: ...

    def read_cstring(self, address: int, max_len: int) -> bytes: ...


T = TypeVar("T")
U = TypeVar("U")

_REPR_MAX = 80


def short_repr(value: object) -> str:
    """``repr(value)`` cut to a length fit for an error message."""
    text = repr(value)
    return text if len(text) <= _REPR_MAX else text[:_REPR_MAX - 3] + "..."


def _refuse(self: Tainted[Any], *_: object) -> NoReturn:
    raise TaintError(f"{self._origin}: tainted value {short_repr(self._value)} used without "
                     "verification; call .verify(...) first")


class Tainted(Generic[T]):
    """A value that came from a sandbox and has not been checked."""

    __slots__ = ("_value", "_origin")

    def __init__(self, value: T, origin: str = "sandbox") -> None:
        self._value = value
        self._origin = origin

    def verify(self, predicate: Callable[[T], bool], what: str = "") -> T:
        """Return the value if ``predicate`` accepts it, else raise ``TaintError``."""
        try:
            ok = predicate(self._value)
        except SandboxError:  # e.g. a trap in a check that called into the sandbox
            raise
        except Exception as exc:
            raise TaintError(f"{self._origin}: check {what or predicate!r} raised {exc!r} "
                             f"on value {short_repr(self._value)}") from exc
        if not ok:
            name = what or getattr(predicate, "__name__", repr(predicate))
            raise TaintError(f"{self._origin}: value {short_repr(self._value)} failed check "
                             f"{name}")
        return self._value

    def verify_range(self: Tainted[int], low: int, high: int) -> int:
        """Return the value if it is an int with ``low <= value <= high``."""
        v = self._value
        if not isinstance(v, int) or not low <= v <= high:
            raise TaintError(f"{self._origin}: value {short_repr(v)} is outside [{low}, {high}]")
        return v

    def verify_in(self, allowed: Container[T]) -> T:
        """Return the value if it is one of ``allowed``."""
        try:
            found = self._value in allowed
        except TypeError:  # e.g. an unhashable value against a set
            found = False
        if not found:
            raise TaintError(f"{self._origin}: value {short_repr(self._value)} is not one of "
                             f"{short_repr(allowed)}")
        return self._value

    def unverified_safe_because(self, reason: str) -> T:
        """Return the value unchecked; ``reason`` documents why that is safe."""
        if not reason.strip():
            raise TaintError("unverified_safe_because needs a reason")
        return self._value

    def map(self, fn: Callable[[T], U]) -> Tainted[U]:
        """Apply ``fn`` to the value; the result stays tainted."""
        return Tainted(fn(self._value), self._origin)

    @property
    def origin(self) -> str:
        """Where the value came from: function and argument, or struct field."""
        return self._origin

    def __repr__(self) -> str:
        return f"Tainted({short_repr(self._value)}, from {self._origin})"

    __hash__ = None  # type: ignore[assignment]

    if not TYPE_CHECKING:  # refused at run time, and invisible to the type checker
        __bool__ = __int__ = __index__ = __float__ = __complex__ = __bytes__ = _refuse
        __len__ = __iter__ = __reversed__ = __contains__ = _refuse
        __getitem__ = __setitem__ = __delitem__ = _refuse
        __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
        __neg__ = __pos__ = __abs__ = __invert__ = _refuse
        __round__ = __trunc__ = __floor__ = __ceil__ = _refuse
        __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
        __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _refuse
        __mod__ = __rmod__ = __divmod__ = __rdivmod__ = __pow__ = __rpow__ = _refuse
        __matmul__ = __rmatmul__ = _refuse
        __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _refuse
        __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = _refuse


class TaintedPtr(Tainted[int]):
    """An address inside one sandbox's memory, returned by that sandbox.

    Reads name where the pointer came from in their errors: ``BoundsError`` for a
    span outside the memory, ``TaintError`` for a string longer than allowed.
    """

    __slots__ = ("_memory",)

    def __init__(self, address: int, memory: MemoryReader, origin: str = "sandbox") -> None:
        super().__init__(address, origin)
        self._memory = memory

    def is_null(self) -> bool:
        """Whether the pointer is NULL (a safe check: it needs no trust)."""
        return self._value == 0

    def belongs_to(self, memory: MemoryReader) -> bool:
        """Whether the pointer points into ``memory``."""
        return self._memory is memory

    def offset(self, delta: int) -> TaintedPtr:
        """The pointer moved by ``delta`` bytes (still tainted, checked on use)."""
        return TaintedPtr(self._value + delta, self._memory, self._origin)

    def copy_bytes(self, n: int) -> Tainted[bytes]:
        """Copy ``n`` bytes out of the sandbox (bounds-checked); the copy is tainted."""
        try:
            return Tainted(self._memory.read(self._value, n), self._origin)
        except TaintError as exc:
            raise type(exc)(f"{self._origin}: {exc}") from None

    def copy_string(self, max_len: int) -> Tainted[bytes]:
        """Copy a NUL-terminated string of at most ``max_len`` bytes out of the sandbox."""
        try:
            return Tainted(self._memory.read_cstring(self._value, max_len), self._origin)
        except TaintError as exc:
            raise type(exc)(f"{self._origin}: {exc}") from None

    def copy_and_verify(self, n: int, predicate: Callable[[bytes], bool], what: str = "") -> bytes:
        """Copy ``n`` bytes out first, then check the copy (no double fetch): what
        is returned is exactly what was checked, whatever the sandbox does later."""
        return self.copy_bytes(n).verify(predicate, what)

    def copy_and_verify_string(self, max_len: int, predicate: Callable[[bytes], bool],
                               what: str = "") -> bytes:
        """Copy a string out first, then check the copy (no double fetch)."""
        return self.copy_string(max_len).verify(predicate, what)

    def __repr__(self) -> str:
        return f"TaintedPtr(0x{self._value:x}, from {self._origin})"
