"""Converting Python values to C arguments: the rules the compiled boundary's fast
paths defer to (``sandboxlib/_boundary.c``; results are lifted to tainted values there).

Every converter range-checks for the C type in the backend's data model and names
the function, the argument and the value when it refuses. Pointer arguments accept
NULL (``None``), a pointer the same sandbox returned, a host-owned ``Allocation``
in it, a registered callback, or, for ``const`` pointers, bytes/str that are copied
in for the duration of the call.
"""

from __future__ import annotations

from ..abi import CType, FuncPtr, PointerValue, Prim, Ptr, wasm_shape
from ..errors import ArgumentError, BoundsError, ResourceError, TaintError
from ..taint import Tainted, TaintedPtr, short_repr
from .objects import CallbackHandle, Owner, Temps
from .scalars import Converter, float_converter, int_converter


def pointer_converter(t: Ptr | FuncPtr, sandbox: Owner, where: str) -> Converter:
    hi = sandbox.model.int_range(t)[1]
    memory = sandbox.memory
    accepts_data = isinstance(t, Ptr) and t.const
    want = wasm_shape(t.sig) if isinstance(t, FuncPtr) else None

    def convert(value: object, temps: Temps) -> int:
        if value is None:
            return 0
        if isinstance(value, TaintedPtr):
            if not value.belongs_to(memory):
                raise TaintError(f"{where}: pointer {value!r} belongs to another sandbox")
            address: int = value.unverified_safe_because("its own pointer may go back to it")
            if not 0 <= address <= hi:
                raise ArgumentError(f"{where}: pointer {value!r} was moved outside the "
                                    f"{model_name} address range")
            return address
        if want is not None and not isinstance(value, (CallbackHandle, PointerValue, int)):
            raise ArgumentError(f"{where}: expected a callback (sandbox.callback(...)) for a "
                                f"function pointer, got {type(value).__name__} "
                                f"{short_repr(value)}")
        if want is not None and isinstance(value, CallbackHandle) and value.shape != want:
            raise ArgumentError(f"{where}: callback {value.name} has type "
                                f"{value.shape}, the function pointer needs {want}")
        address_in = getattr(value, "address_in", None)  # Allocation, CallbackHandle, Struct,
        if address_in is not None:                       # Handle
            address = address_in(sandbox, where)
            return address
        if isinstance(value, Tainted):
            raise TaintError(f"{where}: tainted value {value!r} passed as a pointer")
        if type(value) is int:
            if 0 <= value <= hi:
                return value
            raise ArgumentError(f"{where}: address {value} does not fit a {model_name} pointer")
        if isinstance(value, (bytes, bytearray, memoryview, str)):
            if not accepts_data:
                raise ArgumentError(f"{where}: {type(value).__name__} can only be passed for a "
                                    f"const pointer; for '{_spelling(t)}' pass "
                                    "sandbox.alloc()/copy_in() and read it back")
            data = value.encode() if isinstance(value, str) else bytes(value)
            try:
                return sandbox.temp_copy(data, temps)
            except (BoundsError, ResourceError) as exc:
                raise type(exc)(f"{where}: copying {len(data)} bytes in: {exc}") from None
        raise ArgumentError(f"{where}: cannot pass {type(value).__name__} "
                            f"{short_repr(value)} as '{_spelling(t)}' (a host object goes in "
                            "as a handle: sandbox.handles.new(obj))")

    model_name = sandbox.model.name
    return convert


def _spelling(t: Ptr | FuncPtr) -> str:
    if isinstance(t, FuncPtr):
        return "function pointer"
    return f"{'const ' if t.const else ''}{t.target} *"


def converter(t: CType, sandbox: Owner, where: str) -> Converter:
    if isinstance(t, (Ptr, FuncPtr)):
        return pointer_converter(t, sandbox, where)
    if t is Prim.VOID:
        raise ArgumentError(f"{where}: a parameter cannot have type void")
    if t.is_float:
        return float_converter(t, where)
    return int_converter(t, sandbox.model, where)
