"""Converting Python numbers to C scalars (range-checked for the C type in a data
model, naming where the value goes) and raw machine integers back to C values."""

from __future__ import annotations

import math
from typing import Any, Callable

from ..abi import DataModel, Prim
from ..errors import ArgumentError, TaintError
from ..taint import Tainted, short_repr

# A converter takes a value and the list of temporary copies made for the call
# (pointer converters add to it) and returns the machine value.
Converter = Callable[[object, list[Any]], "int | float"]
FLT_MAX = 3.4028234663852886e38


def int_converter(t: Prim, model: DataModel, where: str) -> Converter:
    lo, hi = model.int_range(t)

    def convert(value: object, temps: list[Any]) -> int:
        if type(value) is int and lo <= value <= hi:
            return value
        if isinstance(value, Tainted):
            raise TaintError(f"{where}: tainted value {value!r} passed without verification")
        if isinstance(value, bool) or (type(value) is not int and isinstance(value, int)):
            value = int(value)
            if lo <= value <= hi:
                return value
        if not isinstance(value, int):
            raise ArgumentError(f"{where}: expected an int for C type '{t.value}', "
                                f"got {type(value).__name__} {short_repr(value)}")
        raise ArgumentError(f"{where}: {value} does not fit C type '{t.value}' "
                            f"({model.name}: {lo}..{hi})")
    return convert


def float_converter(t: Prim, where: str) -> Converter:
    def convert(value: object, temps: list[Any]) -> float:
        if isinstance(value, Tainted):
            raise TaintError(f"{where}: tainted value {value!r} passed without verification")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ArgumentError(f"{where}: expected a float for C type '{t.value}', "
                                f"got {type(value).__name__} {short_repr(value)}")
        try:
            f = float(value)
        except OverflowError:
            raise ArgumentError(f"{where}: {value} does not fit C type '{t.value}'") from None
        if t is Prim.FLOAT and math.isfinite(f) and abs(f) > FLT_MAX:
            raise ArgumentError(f"{where}: {value} does not fit C type 'float'")
        return f
    return convert


def truncate(value: int, bits: int, signed: bool) -> int:
    """What a C caller sees of a sub-int result: the low ``bits``, re-signed."""
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def truncate_to(t: Prim, model: DataModel, value: int) -> int:
    """Truncate an integer to C type ``t`` (for values read raw from the machine)."""
    if t is Prim.BOOL:
        return int(value & 0xFF != 0)
    return truncate(value, 8 * model.size(t), model.is_signed(t))
