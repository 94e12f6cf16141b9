"""The generator's intermediate representation: plain dataclasses.

``parse`` builds it from the headers; ``lower`` and ``plan`` read it. Types are kept
as the header spells them (typedef names, struct tags); ``lower`` resolves them to
``abi`` types. No layout is computed here: a generated struct class computes its
layout per data model at run time (``StructDecl.layout``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..abi import PointerValue, Prim


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Scalar:
    prim: Prim
    spelling: str = ""  # the typedef name it was written as (uLong, int32_t), if any


@dataclass(frozen=True)
class Pointer:
    target: DeclType
    const: bool = False  # the pointee is const


@dataclass(frozen=True)
class Array:
    element: DeclType
    length: int | None  # None: flexible or unsized
    # a length the parse could not evaluate (``sizeof(struct s)``), as C: the compiler is
    # asked it (codegen/layouts.py); until then ``length`` is None
    expr: str = ""


@dataclass(frozen=True)
class StructRef:
    """A struct or union by tag; its definition lives in ``Api.structs``."""

    tag: str
    union: bool = False


@dataclass(frozen=True)
class EnumRef:
    tag: str


@dataclass(frozen=True)
class FunctionType:
    params: tuple[Param, ...]
    result: DeclType
    variadic: bool = False
    spelling: str = ""  # the typedef name it was written as (also one of a pointer to it)


@dataclass(frozen=True)
class Param:
    name: str
    type: DeclType


@dataclass(frozen=True)
class Unsupported:
    """A type the generator cannot proxy safely; ``reason`` says why."""

    reason: str


DeclType = Scalar | Pointer | Array | StructRef | EnumRef | FunctionType | Unsupported


@dataclass(frozen=True)
class FieldDecl:
    name: str
    type: DeclType
    bits: int | None = None  # a bitfield's width
    anonymous: bool = False  # an anonymous struct or union member (its name is made up)


@dataclass
class StructDecl:
    tag: str
    union: bool
    fields: list[FieldDecl] | None  # None: opaque (declared, never defined)
    location: Location | None = None
    # a C expression of this type (``(*(struct tag *)0)``, a field of another's), for
    # asking the compiler its layout; None where none can be written (an anonymous member)
    spelling: str | None = None


@dataclass
class Enum:
    tag: str
    values: dict[str, int]
    location: Location | None = None


@dataclass
class FunctionDecl:
    name: str
    type: FunctionType
    location: Location | None = None


@dataclass
class Constant:
    name: str
    value: int | float | str | PointerValue  # a pointer cast of a number: PointerValue
    location: Location | None = None


@dataclass
class Skipped:
    name: str
    reason: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.name}: {self.reason}"


@dataclass
class Renamed:
    """A C name given another Python name (``names.python_names``)."""

    what: str  # "function alloc", "parameter self of f", "field _address of struct s"
    python: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.what} -> {self.python}"


@dataclass
class Api:
    """Everything a set of headers declares that the proxy exposes."""

    functions: list[FunctionDecl] = field(default_factory=list)
    structs: dict[str, StructDecl] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    typedefs: dict[str, DeclType] = field(default_factory=dict)
    constants: list[Constant] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def function(self, name: str) -> FunctionDecl | None:
        return next((f for f in self.functions if f.name == name), None)
