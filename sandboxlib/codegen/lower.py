"""IR types to the runtime's types: ``abi`` types for calls, field types for structs.

A parameter or result that cannot be proxied safely raises ``CannotProxy`` with the
reason; a struct that cannot get a view class has its reason returned by
``struct_problem``. The plan then skips the declaration and warns, never guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..abi import WASM32, CType, FuncPtr, Prim, Ptr, Signature
from . import ir


class CannotProxy(Exception):
    """Why a declaration is skipped."""


@dataclass(frozen=True)
class Nested:
    """A struct or union field, by tag (the plan names its view class)."""

    tag: str


@dataclass(frozen=True)
class FixedArray:
    """A fixed-size array field: ``element[length]``."""

    element: FieldType
    length: int


FieldType = CType | Nested | FixedArray


def spell(t: ir.DeclType) -> str:
    """C spelling of an IR type (for docs, messages and ``Ptr.target``)."""
    if isinstance(t, ir.Scalar):
        return t.spelling or t.prim.value
    if isinstance(t, ir.Pointer):
        if isinstance(t.target, ir.FunctionType):
            return spell(t.target)  # already spelled as a pointer: int (*)(int)
        return f"{'const ' if t.const else ''}{spell(t.target)} *"
    if isinstance(t, ir.Array):
        return f"{spell(t.element)}[{'' if t.length is None else t.length}]"
    if isinstance(t, ir.StructRef):
        return f"{'union' if t.union else 'struct'} {t.tag}"
    if isinstance(t, ir.EnumRef):
        return f"enum {t.tag}"
    if isinstance(t, ir.FunctionType):
        params = ", ".join(spell(p.type) for p in t.params) + (", ..." if t.variadic else "")
        return f"{spell(t.result)} (*)({params or 'void'})"
    return f"<{t.reason}>"


def declare(t: ir.DeclType, name: str) -> str:
    """A declaration of ``name`` with type ``t``: ``int x``, ``int (*cb)(int)``."""
    if isinstance(t, ir.Pointer) and isinstance(t.target, ir.FunctionType):
        return spell(t).replace("(*)", f"(*{name})", 1)
    return f"{spell(t)} {name}"


def prototype(fn: ir.FunctionDecl) -> str:
    """The C prototype of ``fn`` (for the generated method's docstring)."""
    params = ", ".join(declare(p.type, p.name) for p in fn.type.params)
    variadic = ", ..." if fn.type.variadic else ""
    return f"{spell(fn.type.result)} {fn.name}({params or 'void'}{variadic})"


@dataclass
class Lowering:
    api: ir.Api
    _struct_ok: dict[str, str | None] = field(default_factory=dict)

    def enum_prim(self, tag: str) -> Prim:
        enum = self.api.enums.get(tag)
        if enum and enum.values and max(enum.values.values()) > WASM32.int_range(Prim.INT)[1]:
            return Prim.UINT
        return Prim.INT

    def value(self, t: ir.DeclType, what: str) -> CType:
        """A parameter or result type; raises CannotProxy."""
        if isinstance(t, ir.Scalar):
            return t.prim
        if isinstance(t, ir.EnumRef):
            return self.enum_prim(t.tag)
        if isinstance(t, ir.Pointer):
            if isinstance(t.target, ir.FunctionType):
                try:
                    return FuncPtr(self.signature(t.target))
                except CannotProxy:
                    return Ptr("function", const=False)
            return Ptr(spell(t.target), const=t.const)
        if isinstance(t, ir.StructRef):
            raise CannotProxy(f"{what} passes {spell(t)} by value")
        if isinstance(t, ir.Unsupported):
            raise CannotProxy(f"{what}: {t.reason}")
        raise CannotProxy(f"{what} has unsupported type {spell(t)}")

    def signature(self, ft: ir.FunctionType) -> Signature:
        if ft.variadic:
            raise CannotProxy("variadic functions cannot be called safely")
        params = tuple(self.value(p.type, f"parameter '{p.name}'") for p in ft.params)
        result = self.value(ft.result, "the result")
        return Signature(params, result, tuple(p.name for p in ft.params))

    def field(self, t: ir.DeclType) -> FieldType:
        """A field's type, for a struct ``struct_problem`` accepted."""
        if isinstance(t, ir.StructRef):
            return Nested(t.tag)
        if isinstance(t, ir.Array):
            assert t.length is not None
            return FixedArray(self.field(t.element), t.length)
        return self.value(t, "field")

    def struct_problem(self, tag: str) -> str | None:
        """Why struct ``tag`` cannot get a view class, or None if it can."""
        if tag in self._struct_ok:
            return self._struct_ok[tag] or None
        self._struct_ok[tag] = "recursive by value"
        s = self.api.structs.get(tag)
        problem: str | None = None
        if s is None or s.fields is None:
            problem = "opaque (declared but not defined)"
        else:
            for f in s.fields:
                if f.bits is not None:
                    problem = f"bitfield '{f.name}'"
                    break
                problem = self.field_problem(f.type, f.name)
                if problem:
                    break
        self._struct_ok[tag] = problem
        return problem

    def field_problem(self, t: ir.DeclType, name: str) -> str | None:
        if isinstance(t, ir.Unsupported):
            return f"field '{name}': {t.reason}"
        if isinstance(t, ir.Array):
            if t.length is None:
                return f"field '{name}' is a flexible array"
            return self.field_problem(t.element, name)
        if isinstance(t, ir.StructRef):
            inner = self.struct_problem(t.tag)
            return f"field '{name}' ({spell(t)}): {inner}" if inner else None
        if isinstance(t, ir.FunctionType):
            return f"field '{name}' is a function"
        return None
