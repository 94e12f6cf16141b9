"""The checked callers of a sandbox's C functions, and the sources of its callback
targets. A caller is compiled (``sandboxlib/_boundary.c``): a ``Plan`` per function
and data model says how its arguments are checked and its result lifted, a
``Caller`` per function and sandbox runs it; what the compiled fast path does not
accept goes to the sandbox's converters (``Sandbox._convert``), which accept or
raise exactly as before."""

from __future__ import annotations

from typing import Any

from .._boundary import MAX_PARAMS, Caller, Gate, Plan, setup
from ..abi import CType, DataModel, Function, FuncPtr, Prim, Ptr, raw_field
from ..backends.base import RawEntry
from ..errors import ArgumentError, SandboxError
from ..taint import Tainted, TaintedPtr

setup(Tainted, TaintedPtr, ArgumentError)
_FIELDS = {"i32": "i", "u32": "u", "i64": "I", "u64": "U", "f32": "i", "f64": "i"}
_plans: dict[tuple[str, Function], Plan] = {}

__all__ = ["Gate", "caller", "plan"]


def _param(t: CType, model: DataModel, where: str) -> tuple[str, int, int]:
    """How the compiled caller checks a parameter: its kind and inclusive bounds."""
    if isinstance(t, (Ptr, FuncPtr)):
        return "p", *model.int_range(t)
    if t is Prim.VOID:
        raise ArgumentError(f"{where}: a parameter cannot have type void")
    if t.is_float:
        return ("f" if t is Prim.FLOAT else "d"), 0, 0
    return ("i" if model.is_signed(t) else "u"), *model.int_range(t)


def plan(fn: Function, model: DataModel) -> Plan:
    """How ``fn``'s arguments are checked and its result lifted in ``model``."""
    made = _plans.get((model.name, fn))
    if made is not None:
        return made
    sig = fn.sig
    if len(sig.params) > MAX_PARAMS:
        raise SandboxError(f"{fn.name}: more than {MAX_PARAMS} parameters are not supported")
    params = [_param(t, model, f"{fn.name}(): argument {i + 1} '{sig.name_of(i)}'")
              for i, t in enumerate(sig.params)]
    r = sig.result
    if r is Prim.VOID:
        result, field, bits = "v", "i", 0
    else:
        field, bits = _FIELDS[raw_field(r, model)], 0
        if isinstance(r, (Ptr, FuncPtr)):
            result = "p"
        elif r.is_float:
            result = "f" if r is Prim.FLOAT else "d"
        elif r is Prim.BOOL:
            result = "b"
        else:
            result = "i"
            bits = 8 * model.size(r) if model.size(r) < 4 else 0
    made = _plans[model.name, fn] = Plan(
        fn, fn.name, f"{fn.name}() result", "".join(k for k, _, _ in params).encode(),
        tuple(lo for _, lo, _ in params), tuple(hi for _, _, hi in params), result, field,
        bits, r is not Prim.VOID and not isinstance(r, (Ptr, FuncPtr)) and model.is_signed(r))
    return made


def caller(gate: Gate, plan: Plan, sandbox: Any, memory: Any, entry: RawEntry) -> Caller:
    """The compiled caller of one function of one sandbox."""
    return Caller(gate, plan, sandbox, memory, entry.failed, entry.form, entry.fn, entry.ctx,
                  entry.handle, entry.set_deadline, entry.deadline, entry.raw, entry.keep)


CALLBACK_FREE = ("sb", "call", "lifts", "max_depth", "too_deep", "poisoned", "finish")


def callback_source(arity: int, has_result: bool) -> str:
    """Source of a callback target: depth limit, arguments lifted to tainted values
    (straight-line, no per-call loop), poison check, result conversion."""
    args = ", ".join(f"a{i}" for i in range(arity))
    lifted = ", ".join(f"lifts[{i}](a{i})" for i in range(arity))
    return "\n".join([
        f"def fn({args}):",
        "    depth = sb._callback_depth",
        "    if depth >= max_depth:",
        "        too_deep(depth)",
        "    sb._callback_depth = depth + 1",
        "    try:",
        f"        value = call({lifted})",
        "    finally:",
        "        sb._callback_depth -= 1",
        "    if sb._poisoned is not None:",
        "        poisoned()",
        "    return finish(value)" if has_result else "    return None"])
