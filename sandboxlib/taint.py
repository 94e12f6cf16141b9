"""Tainted values: what comes out of a sandbox, unusable until checked.

A ``Tainted[T]`` refuses every implicit use (truth, comparison, arithmetic,
``int()``, indexing); the value comes out only through ``verify`` (a predicate the
host states) or ``unverified_safe_because`` (an explicit, greppable escape hatch).
A ``TaintedPtr`` is an address inside one sandbox's memory; reading through it is
bounds-checked against that memory, and it may be passed back to the same sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generic, NoReturn, TypeVar

from .errors import TaintError

if TYPE_CHECKING:
    from .runtime.memory import Memory

T = TypeVar("T")
U = TypeVar("U")


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
        except TaintError:
            raise
        except Exception as exc:
            raise TaintError(f"{self._origin}: check {what or predicate!r} raised {exc!r} "
                             f"on value {self._value!r}") from exc
        if not ok:
            name = what or getattr(predicate, "__name__", repr(predicate))
            raise TaintError(f"{self._origin}: value {self._value!r} failed check {name}")
        return self._value

    def verify_range(self, low: int, high: int) -> T:
        """Return the value if it is an int with ``low <= value <= high``."""
        v = self._value
        if not isinstance(v, int) or not low <= v <= high:
            raise TaintError(f"{self._origin}: value {v!r} is outside [{low}, {high}]")
        return v

    def verify_in(self, allowed: Any) -> T:
        """Return the value if it is one of ``allowed``."""
        if self._value not in allowed:
            raise TaintError(f"{self._origin}: value {self._value!r} is not one of {allowed!r}")
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
        return self._origin

    def __repr__(self) -> str:
        return f"Tainted({self._value!r}, from {self._origin})"

    def _refuse(self, *_: object) -> NoReturn:
        raise TaintError(f"{self._origin}: tainted value {self._value!r} used without "
                         "verification; call .verify(...) first")

    __bool__ = _refuse
    __int__ = _refuse
    __index__ = _refuse
    __float__ = _refuse
    __len__ = _refuse
    __iter__ = _refuse
    __getitem__ = _refuse
    __lt__ = _refuse
    __le__ = _refuse
    __gt__ = _refuse
    __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __and__ = __or__ = __xor__ = __lshift__ = __rshift__ = _refuse
    __truediv__ = __floordiv__ = __mod__ = _refuse

    def __eq__(self, other: object) -> bool:
        self._refuse()

    def __ne__(self, other: object) -> bool:
        self._refuse()

    __hash__ = None  # type: ignore[assignment]


class TaintedPtr(Tainted[int]):
    """An address inside one sandbox's memory, returned by that sandbox."""

    __slots__ = ("_memory",)

    def __init__(self, address: int, memory: Memory, origin: str = "sandbox") -> None:
        super().__init__(address, origin)
        self._memory = memory

    def is_null(self) -> bool:
        """Whether the pointer is NULL (a safe check: it needs no trust)."""
        return self._value == 0

    def belongs_to(self, memory: Memory) -> bool:
        return self._memory is memory

    def offset(self, delta: int) -> TaintedPtr:
        """The pointer moved by ``delta`` bytes (still tainted, checked on use)."""
        return TaintedPtr(self._value + delta, self._memory, self._origin)

    def copy_bytes(self, n: int) -> Tainted[bytes]:
        """Copy ``n`` bytes out of the sandbox (bounds-checked); the copy is tainted."""
        return Tainted(self._memory.read(self._value, n), self._origin)

    def copy_string(self, max_len: int) -> Tainted[bytes]:
        """Copy a NUL-terminated string of at most ``max_len`` bytes out of the sandbox."""
        return Tainted(self._memory.read_cstring(self._value, max_len), self._origin)

    def copy_and_verify(self, n: int, predicate: Callable[[bytes], bool], what: str = "") -> bytes:
        """Copy ``n`` bytes out first, then check the copy (no double fetch)."""
        return self.copy_bytes(n).verify(predicate, what)

    def copy_and_verify_string(self, max_len: int, predicate: Callable[[bytes], bool],
                               what: str = "") -> bytes:
        """Copy a string out first, then check the copy (no double fetch)."""
        return self.copy_string(max_len).verify(predicate, what)

    def __repr__(self) -> str:
        return f"TaintedPtr(0x{self._value:x}, from {self._origin})"

