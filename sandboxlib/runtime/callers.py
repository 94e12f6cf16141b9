"""The checked callers of a sandbox's C functions and its callback targets, both
compiled (``sandboxlib/_boundary.c``). A ``Plan`` per function and data model says
how a call's arguments are checked and its result lifted, a ``Caller`` per function
and sandbox runs it; a ``Callback`` lifts the arguments sandboxed code passes and
checks what the host function returns. What the compiled fast paths do not accept
as it is goes to the sandbox's converters (``runtime/marshal.py``), which accept or
raise: the rules live there once."""

from __future__ import annotations

from typing import Any

from .._boundary import MAX_PARAMS, Callback, Caller, Gate, Plan, add_pointee, setup
from ..abi import (CType, DataModel, Function, FuncPtr, Prim, Ptr, Signature, raw_field,
                   wasm_shape)
from ..backends.base import RawEntry
from ..errors import ArgumentError, SandboxError
from ..taint import Tainted, TaintedPtr
from .objects import Allocation, CallbackHandle
from .structs import Struct

setup(Tainted, TaintedPtr, ArgumentError)
# passed as they are when they belong to the sandbox called (see their address_in)
add_pointee(Allocation, "_sandbox", "address", None, True)
add_pointee(CallbackHandle, "_sandbox", "address", "shape", True)
add_pointee(Struct, "_sandbox", "_address", None, False)
_FIELDS = {"i32": "i", "u32": "u", "i64": "I", "u64": "U", "f32": "i", "f64": "i"}
_plans: dict[tuple[str, Function], Plan] = {}

__all__ = ["Callback", "Gate", "callback", "caller", "plan"]
Lift = tuple[str, str, int, bool]  # kind, raw field, bits of a narrow int, signed


Param = tuple[str, int, int, "str | None"]  # kind, inclusive bounds, function type


def _param(t: CType, model: DataModel, where: str) -> Param:
    """How the compiled code checks a value for a parameter (or a callback's result)."""
    if isinstance(t, FuncPtr):
        return "q", *model.int_range(t), wasm_shape(t.sig)
    if isinstance(t, Ptr):  # a const pointer takes bytes and str too
        return "c" if t.const else "p", *model.int_range(t), None
    if t is Prim.VOID:
        raise ArgumentError(f"{where}: a parameter cannot have type void")
    if t.is_float:
        return ("f" if t is Prim.FLOAT else "d"), 0, 0, None
    return ("i" if model.is_signed(t) else "u"), *model.int_range(t), None


def _lift(t: CType, model: DataModel) -> Lift:
    """How the compiled code turns a raw value of type ``t`` into a tainted one."""
    if t is Prim.VOID:
        return "v", "i", 0, False
    field = _FIELDS[raw_field(t, model)]
    if isinstance(t, (Ptr, FuncPtr)):
        return "p", field, 0, False
    if t.is_float:
        return ("f" if t is Prim.FLOAT else "d"), field, 0, False
    if t is Prim.BOOL:
        return "b", field, 0, False
    size = model.size(t)
    return "i", field, 8 * size if size < 4 else 0, model.is_signed(t)


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
    made = _plans[model.name, fn] = Plan(
        fn, fn.name, f"{fn.name}() result", "".join(k for k, _, _, _ in params).encode(),
        tuple(lo for _, lo, _, _ in params), tuple(hi for _, _, hi, _ in params),
        tuple(shape for _, _, _, shape in params), *_lift(sig.result, model))
    return made


def caller(gate: Gate, plan: Plan, sandbox: Any, memory: Any, entry: RawEntry) -> Caller:
    """The compiled caller of one function of one sandbox."""
    return Caller(gate, plan, sandbox, memory, entry.failed, entry.form, entry.fn, entry.ctx,
                  entry.handle, entry.set_deadline, entry.deadline, entry.raw, entry.keep)


def callback(gate: Gate, fn: Any, sig: Signature, model: DataModel, memory: Any, slow: Any,
             where: str, max_depth: int) -> Callback:
    """The compiled target of a callback: ``fn`` gets tainted arguments, its result is
    checked for ``sig``'s result type (``slow``: ``too_deep``, ``poisoned``,
    ``finish``, the errors and conversions off the fast path)."""
    if len(sig.params) > MAX_PARAMS:
        raise SandboxError(f"{where}: more than {MAX_PARAMS} parameters are not supported")
    origins = tuple(f"{where} argument {i + 1} '{sig.name_of(i)}'"
                    for i in range(len(sig.params)))
    result = (None if sig.result is Prim.VOID
              else _param(sig.result, model, f"{where} return value")[:3])
    return Callback(gate, fn, memory, slow, origins, tuple(_lift(t, model) for t in sig.params),
                    result, max_depth)
