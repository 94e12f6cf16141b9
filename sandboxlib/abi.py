"""C types as they cross the sandbox boundary, and their sizes in a data model.

A type is described once (``Prim``, ``Ptr``, ``FuncPtr``); its size, alignment and
integer range come from the data model of the side it lives on: ``WASM32`` (ILP32,
inside the sandbox) or ``HOST`` (the machine running Python, for the native backend).
"""

from __future__ import annotations

import functools
import platform
import struct
from dataclasses import dataclass, field
from enum import Enum
from collections.abc import Iterable
from typing import Any

from .once import HashOnce


class Prim(Enum):
    """C scalar types, by their base spelling."""

    VOID = "void"
    BOOL = "_Bool"
    CHAR = "char"
    SCHAR = "signed char"
    UCHAR = "unsigned char"
    SHORT = "short"
    USHORT = "unsigned short"
    INT = "int"
    UINT = "unsigned int"
    LONG = "long"
    ULONG = "unsigned long"
    LLONG = "long long"
    ULLONG = "unsigned long long"
    FLOAT = "float"
    DOUBLE = "double"

    @property
    def is_float(self) -> bool:
        return self in (Prim.FLOAT, Prim.DOUBLE)

    @property
    def is_integer(self) -> bool:
        return not self.is_float and self is not Prim.VOID


@dataclass(frozen=True)
class Ptr:
    """A data pointer; ``target`` is the pointee's C spelling (for messages and stubs)."""

    target: str = "void"
    const: bool = False


@dataclass(frozen=True)
class FuncPtr:
    """A pointer to a function (a callback) with a known signature."""

    sig: Signature


CType = Prim | Ptr | FuncPtr


@dataclass(frozen=True)
class Signature:
    """Parameter and result types of a C function."""

    params: tuple[CType, ...]
    result: CType = Prim.VOID
    param_names: tuple[str, ...] = field(default=())

    def name_of(self, index: int) -> str:
        if index < len(self.param_names) and self.param_names[index]:
            return self.param_names[index]
        return f"arg{index}"


@dataclass(frozen=True)
class Function(HashOnce):
    """A C function exported by a library (it keys the caches every first call of a
    sandbox looks up: its hash is computed once)."""

    name: str
    sig: Signature

    __hash__ = HashOnce.hash_once


_UNSIGNED = {Prim.BOOL, Prim.UCHAR, Prim.USHORT, Prim.UINT, Prim.ULONG, Prim.ULLONG}


@dataclass(frozen=True)
class DataModel:
    """Sizes of the C types on one side of the boundary."""

    name: str
    long_size: int
    pointer_size: int
    char_signed: bool
    llong_align: int = 8
    double_align: int = 8
    _sizes: dict[Prim, int] = field(init=False, repr=False, compare=False, hash=False)
    _ranges: dict[CType, tuple[int, int]] = field(init=False, repr=False, compare=False,
                                                  hash=False)  # int_range's, as asked

    def __post_init__(self) -> None:
        sizes = {
            Prim.VOID: 1, Prim.BOOL: 1, Prim.CHAR: 1, Prim.SCHAR: 1, Prim.UCHAR: 1,
            Prim.SHORT: 2, Prim.USHORT: 2, Prim.INT: 4, Prim.UINT: 4,
            Prim.LONG: self.long_size, Prim.ULONG: self.long_size,
            Prim.LLONG: 8, Prim.ULLONG: 8, Prim.FLOAT: 4, Prim.DOUBLE: 8,
        }
        object.__setattr__(self, "_sizes", sizes)
        object.__setattr__(self, "_ranges", {})

    def size(self, t: CType) -> int:
        if isinstance(t, (Ptr, FuncPtr)):
            return self.pointer_size
        return self._sizes[t]

    def align(self, t: CType) -> int:
        if t in (Prim.LLONG, Prim.ULLONG):
            return self.llong_align
        if t is Prim.DOUBLE:
            return self.double_align
        return self.size(t)

    def is_signed(self, t: CType) -> bool:
        if isinstance(t, (Ptr, FuncPtr)):
            return False
        if t is Prim.CHAR:
            return self.char_signed
        return t not in _UNSIGNED

    def int_range(self, t: CType) -> tuple[int, int]:
        """The inclusive range of an integer or pointer type."""
        known = self._ranges.get(t)
        if known is not None:
            return known
        if t is Prim.BOOL:
            found = 0, 1
        else:
            bits = 8 * self.size(t)
            found = ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if self.is_signed(t)
                     else (0, (1 << bits) - 1))
        self._ranges[t] = found
        return found


WASM32 = DataModel("wasm32", long_size=4, pointer_size=4, char_signed=True)


def _host_model() -> DataModel:
    pointer = struct.calcsize("P")
    long_size = struct.calcsize("l")
    unsigned_char = platform.machine().lower() in ("aarch64", "arm64", "armv7l", "ppc64le", "s390x")
    return DataModel("host", long_size=long_size, pointer_size=pointer,
                     char_signed=not unsigned_char)


HOST = _host_model()


def c_decl(t: CType, name: str = "") -> str:
    """C spelling of ``t`` for cffi on the host: pointers as ``void *``, and plain
    ``char`` as the host's signed or unsigned char (cffi maps ``char`` to bytes)."""
    if t is Prim.CHAR:
        spelled = "signed char" if HOST.char_signed else "unsigned char"
    elif isinstance(t, Prim):
        spelled = t.value
    elif isinstance(t, Ptr):
        spelled = "const void *" if t.const else "void *"
    else:
        spelled = "void *"
    return f"{spelled} {name}".rstrip()


def function_type_decl(sig: Signature, pointer: bool = False) -> str:
    """A C function type, e.g. ``int(int, void *)``, or with ``pointer`` the type of a
    pointer to it, ``int(*)(int, void *)``, which cffi's callbacks take (a compiled
    module's ffi misreads ``int(const char *)``)."""
    params = ", ".join(c_decl(p) for p in sig.params) or "void"
    return f"{c_decl(sig.result)}{'(*)' if pointer else ''}({params})"


def raw_field(t: CType, model: DataModel) -> str:
    """The raw-union field (i32/u32/i64/u64/f32/f64) that carries ``t`` across a
    call in ``model``: integers of up to 32 bits and wasm32 pointers in 32 bits."""
    if t is Prim.FLOAT:
        return "f32"
    if t is Prim.DOUBLE:
        return "f64"
    if t is Prim.VOID:
        raise ValueError("void has no machine value")
    wide = model.size(t) == 8
    signed = model.is_signed(t)
    return ("i64" if signed else "u64") if wide else ("i32" if signed else "u32")


def wasm_field(t: CType) -> str:
    """The wasm value (as a raw-union field) that carries ``t`` on wasm32."""
    return raw_field(t, WASM32)


@functools.lru_cache(maxsize=1024)  # (asked for every callback a new sandbox registers)
def wasm_valtype(t: CType) -> str:
    """The wasm value type of ``t``: i32, i64, f32 or f64."""
    return wasm_field(t).replace("u", "i")


@functools.lru_cache(maxsize=1024)
def wasm_shape(sig: Signature) -> str:
    """The machine-level type of a function (what call_indirect compares)."""
    result = "()" if sig.result is Prim.VOID else wasm_valtype(sig.result)
    return f"({', '.join(wasm_valtype(p) for p in sig.params)}) -> {result}"


class PointerValue:
    """A pointer a header defines as a number (``#define SQLITE_TRANSIENT
    ((sqlite3_destructor_type)-1)``): passed as that number cast to the sandbox's
    pointer width (``-1`` is 0xFFFFFFFF on wasm32, all 64 bits set natively)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def address_in(self, sandbox: Any, where: str) -> int:
        size: int = sandbox.model.pointer_size
        return self.value & ((1 << 8 * size) - 1)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PointerValue) and other.value == self.value

    def __hash__(self) -> int:
        return hash((PointerValue, self.value))

    def __repr__(self) -> str:
        return f"PointerValue({self.value})"


@dataclass(frozen=True)
class Layout:
    """A struct's size, alignment and its fields' offsets (by name)."""

    size: int
    align: int
    offsets: dict[str, int]


def c_layout(members: Iterable[tuple[str, int, int]], union: bool) -> Layout:
    """C's layout rules for ``members`` (name, size, alignment): each at the next
    multiple of its alignment (all at 0 in a union); the size rounded up to the largest
    alignment. (A header's packing and alignment attributes are not seen here: the
    generator asks the compiler, codegen/layouts.py.)"""
    offset, size, align = 0, 0, 1
    offsets: dict[str, int] = {}
    for name, fsize, falign in members:
        align = max(align, falign)
        if union:
            offsets[name] = 0
            size = max(size, fsize)
        else:
            offset = (offset + falign - 1) // falign * falign
            offsets[name] = offset
            offset += fsize
            size = offset
    size = (size + align - 1) // align * align
    return Layout(size, align, offsets)

# What every module sandboxlib builds exports beside the library's own functions.
MALLOC = Function("malloc", Signature((Prim.ULONG,), Ptr(), ("size",)))
FREE = Function("free", Signature((Ptr(),), Prim.VOID, ("ptr",)))
INITIALIZE = Function("_initialize", Signature(()))  # a reactor's start-up
