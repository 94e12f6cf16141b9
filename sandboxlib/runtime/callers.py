"""The checked callers of a sandbox's C functions and its callback targets, both
compiled (``sandboxlib/_boundary.c``). A ``Plan`` per function and data model says
how a call's arguments are checked and its result lifted, a ``Caller`` per function
and sandbox runs it; a ``Callback`` lifts the arguments sandboxed code passes and
checks what the host function returns. What the compiled fast paths do not accept
as it is goes to the sandbox's converters (``runtime/marshal.py``), which accept or
raise: the rules live there once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._boundary import MAX_PARAMS, Callback, Caller, Gate, Plan, Region
from ..abi import DataModel, Function, Prim, Signature
from ..backends.base import RawEntry
from ..errors import SandboxError
from .compiled import lift_spec, param_spec

if TYPE_CHECKING:  # protocols of the stub only: what the compiled code calls back
    from .._boundary import CallbackHost, CallerHost

_plans: dict[tuple[str, Function], Plan] = {}

__all__ = ["Callback", "Gate", "callback", "caller", "plan"]


def plan(fn: Function, model: DataModel) -> Plan:
    """How ``fn``'s arguments are checked and its result lifted in ``model``."""
    made = _plans.get((model.name, fn))
    if made is not None:
        return made
    sig = fn.sig
    if len(sig.params) > MAX_PARAMS:
        raise SandboxError(f"{fn.name}: more than {MAX_PARAMS} parameters are not supported")
    params = [param_spec(t, model, f"{fn.name}(): argument {i + 1} '{sig.name_of(i)}'")
              for i, t in enumerate(sig.params)]
    made = _plans[model.name, fn] = Plan(
        fn, fn.name, f"{fn.name}() result", "".join(k for k, _, _, _ in params).encode(),
        tuple(lo for _, lo, _, _ in params), tuple(hi for _, _, hi, _ in params),
        tuple(shape for _, _, _, shape in params), *lift_spec(sig.result, model))
    return made


def caller(gate: Gate, plan: Plan, sandbox: CallerHost, memory: Region,
           entry: RawEntry) -> Caller:
    """The compiled caller of one function of one sandbox."""
    return Caller(gate, plan, sandbox, memory, entry.failed, entry.fn, entry.ctx, entry.keep)


def callback(gate: Gate, fn: Any, sig: Signature, model: DataModel, memory: Region,
             slow: CallbackHost, where: str, max_depth: int) -> Callback:
    """The compiled target of a callback: ``fn`` gets tainted arguments, its result is
    checked for ``sig``'s result type (``slow``: ``too_deep``, ``poisoned``,
    ``finish``, the errors and conversions off the fast path)."""
    if len(sig.params) > MAX_PARAMS:
        raise SandboxError(f"{where}: more than {MAX_PARAMS} parameters are not supported")
    origins = tuple(f"{where} argument {i + 1} '{sig.name_of(i)}'"
                    for i in range(len(sig.params)))
    result = (None if sig.result is Prim.VOID
              else param_spec(sig.result, model, f"{where} return value")[:3])
    lifts = tuple(lift_spec(t, model) for t in sig.params)
    return Callback(gate, fn, memory, slow, origins, lifts, result, max_depth)
