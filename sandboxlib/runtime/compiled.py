"""The compiled boundary (``sandboxlib/_boundary.c``) set up for the runtime: the
types its results and errors are made of, the host objects it passes as pointers,
and how a C type's values are checked (``param_spec``) and lifted (``lift_spec``)
by compiled code in a data model."""

from __future__ import annotations

from .._boundary import Block, add_pointee, setup
from ..abi import CType, DataModel, FuncPtr, Prim, Ptr, raw_field, wasm_shape
from ..errors import ArgumentError
from ..taint import Tainted, TaintedPtr
from .objects import CallbackHandle

ParamSpec = tuple[str, int, int, "str | None"]  # kind, inclusive bounds, function type
LiftSpec = tuple[str, str, int, bool]  # kind, raw field, bits of a narrow int, signed
_FIELDS = {"i32": "i", "u32": "u", "i64": "I", "u64": "U", "f32": "i", "f64": "i"}

setup(Tainted, TaintedPtr, ArgumentError)
# passed as they are when they belong to the sandbox called (see their address_in);
# struct views register in runtime/structs.py
add_pointee(Block, "_sandbox", "address", None, True)  # Allocation, Cell
add_pointee(CallbackHandle, "_sandbox", "address", "shape", True)


def param_spec(t: CType, model: DataModel, where: str) -> ParamSpec:
    """How compiled code checks a value of type ``t`` (an argument, a callback's
    result, a field stored): p(ointer), c(onst pointer: bytes and str too),
    q (function pointer), i/u (signed/unsigned int), f/d (float/double)."""
    if isinstance(t, FuncPtr):
        return "q", *model.int_range(t), wasm_shape(t.sig)
    if isinstance(t, Ptr):
        return "c" if t.const else "p", *model.int_range(t), None
    if t is Prim.VOID:
        raise ArgumentError(f"{where}: a parameter cannot have type void")
    if t.is_float:
        return ("f" if t is Prim.FLOAT else "d"), 0, 0, None
    return ("i" if model.is_signed(t) else "u"), *model.int_range(t), None


def lift_spec(t: CType, model: DataModel) -> LiftSpec:
    """How compiled code turns a raw value of type ``t`` into a tainted one."""
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
