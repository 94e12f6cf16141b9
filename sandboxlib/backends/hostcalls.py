"""What every backend does when sandboxed code calls back into the host: find the
registered callback by its key (a call through a removed one traps), read its
raw arguments from the backend's value array and store its result there, and keep
an exception it raised while the sandbox's frames unwind, for the caller."""

from __future__ import annotations

from typing import Any, Callable

from ..abi import Prim, Signature, wasm_field
from ..errors import TrapError, TrapKind
from ..specialize import factory
from .base import HostFunction

Invoker = Callable[[Any], None]


def _invoker_source(fields: tuple[str, ...], result: str | None) -> str:
    """``fn(values)``: the raw arguments read field by field (``values`` is an array
    of the i32/u32/i64/u64/f32/f64 union both backends use), the result stored back."""
    call = f"target({', '.join(f'values[{i}].{f}' for i, f in enumerate(fields))})"
    return f"def fn(values):\n    {f'values[0].{result} = ' if result else ''}{call}"


def invoker(sig: Signature, target: HostFunction) -> Invoker:
    fields = tuple(wasm_field(t) for t in sig.params)
    result = None if sig.result is Prim.VOID else wasm_field(sig.result)
    make = factory(("host-invoker", fields, result), ("target",),
                   lambda: _invoker_source(fields, result))
    made: Invoker = make(target)
    return made


class HostCalls:
    """One instance's callbacks, by the key its code reaches them with, and the
    exception a host function raised (re-raised by the call that unwinds)."""

    __slots__ = ("_invokers", "_pending")

    def __init__(self) -> None:
        self._invokers: dict[int, Invoker] = {}
        self._pending: BaseException | None = None

    def add(self, key: int, sig: Signature, target: HostFunction) -> None:
        self._invokers[key] = invoker(sig, target)

    def remove(self, key: int) -> bool:
        """Forget ``key``; whether it was registered."""
        return self._invokers.pop(key, None) is not None

    def clear(self) -> None:
        self._invokers.clear()

    def invoke(self, key: int, values: Any) -> None:
        """Run callback ``key`` on ``values`` (TrapError if it is not registered)."""
        run = self._invokers.get(key)
        if run is None:
            raise TrapError(TrapKind.UNREGISTERED_CALLBACK.value, TrapKind.UNREGISTERED_CALLBACK)
        run(values)

    def hold(self, exc: BaseException) -> None:
        """Keep ``exc`` until the sandboxed code has unwound to its caller."""
        self._pending = exc

    @property
    def failed(self) -> bool:
        """Whether an exception is held (later host calls of the same call skip)."""
        return self._pending is not None

    def take(self) -> BaseException | None:
        """The exception held since the last call, if any (and forget it)."""
        pending, self._pending = self._pending, None
        return pending
