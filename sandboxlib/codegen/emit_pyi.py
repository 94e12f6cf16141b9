"""The type stubs (``__init__.pyi``) of a generated package, from its plan.

Every value that comes out of the sandbox is typed ``Tainted[...]`` (``TaintedPtr``
for pointers), so ``mypy`` rejects code that uses one where a plain value is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..abi import CType, FuncPtr, Prim, Ptr
from .formatting import WIDTH, bracketed, module_header, used_imports
from .helpers import helper_stub
from .lower import FieldType, FixedArray, Nested
from .names import BUILTINS, docstring
from .plan import STUB_IMPORTABLE, PackagePlan

_CHARS = (Prim.CHAR, Prim.SCHAR, Prim.UCHAR)


class Stubs:
    """Stub types of the values of one package: a pointer to a struct is typed by that
    struct (its pointer type, its view class), other pointers generally."""

    def __init__(self, plan: PackagePlan) -> None:
        self.pointers = plan.pointer_types
        self.classes = plan.struct_classes()

    def result(self, t: CType) -> str:
        """The stub type of a value read from the sandbox."""
        if t is Prim.VOID:
            return "None"
        if isinstance(t, (Ptr, FuncPtr)):
            return self.pointers.get(t.target, "TaintedPtr") if isinstance(t, Ptr) \
                else "TaintedPtr"
        if t is Prim.BOOL:
            return "Tainted[bool]"
        return "Tainted[float]" if t.is_float else "Tainted[int]"

    def param(self, t: CType) -> str:
        """The stub type of a value passed into the sandbox."""
        if isinstance(t, FuncPtr):
            return "CallbackArg"
        if isinstance(t, Ptr):
            typed = self.pointers.get(t.target)
            if typed is None:
                return "ConstData" if t.const else "PointerArg"
            view = self.classes.get(t.target.split()[-1])
            parts = [typed, *([view] if view else []), "HostPointer"]
            return " | ".join(parts + (["HostData"] if t.const else []))
        return "float" if t.is_float else "int"

    def field(self, t: FieldType) -> tuple[str, str]:
        """(stub type when a field is read, when it is written). A char array reads as
        bytes; other arrays cannot be assigned whole."""
        if isinstance(t, Nested):
            return self.classes[t.tag], self.classes[t.tag]
        if isinstance(t, FixedArray):
            if t.element in _CHARS:
                return "Tainted[bytes]", "bytes"
            return "Tainted[list[Any]]", "NoReturn"
        return self.result(t), self.param(t)


def emit_stub(plan: PackagePlan) -> str:
    """The source of the package's ``__init__.pyi``."""
    body = _body(plan)
    imports = used_imports(plan.name, body, STUB_IMPORTABLE)
    return "\n".join(module_header(plan.name, "type stubs", plan.headers, imports) + body)


def stub_imports(plan: PackagePlan) -> dict[str, str]:
    """What the package's ``__init__.pyi`` imports: each name with its module."""
    return used_imports(plan.name, _body(plan), STUB_IMPORTABLE)


def _body(plan: PackagePlan) -> list[str]:
    """The lines of the ``__init__.pyi`` after its imports."""
    out = [f"{c.name}: {type(c.value).__name__}" for c in plan.constants]
    out += [f"{name}: Signature" for name in plan.callbacks]
    for e in plan.enums:
        out += ["", f"class {e.pyname}(IntEnum):", *(f"    {n} = {v}" for n, v in e.members)]
    out += _structs(plan)
    out += [f"{alias} = {cls}" for alias, cls in plan.aliases.items()]
    out += [f"{name} = NewType({name!r}, TaintedPtr)" for name in plan.pointer_types.values()]
    out += [f"{alias} = {name}" for alias, name in plan.pointer_aliases.items()]
    out += ["", "FUNCTIONS: tuple[Any, ...]", "LIBRARY: Library", ""]
    out += _proxy_class(plan) + _helpers_class(plan)
    out += ["", "def sandbox(backend: str | None = ..., *, limits: Limits | None = ...,",
            f"            grants: Grants | None = ...) -> {plan.class_name}: ...", ""]
    return out


def _structs(plan: PackagePlan) -> list[str]:
    out: list[str] = []
    stubs = Stubs(plan)
    for sp in plan.structs:
        out += ["", f"class {sp.pyname}(Struct):"]
        t = _unshadow(n for n, _ in sp.fields)
        for n, ftype in sp.fields:
            get, put = stubs.field(ftype)
            out += [f"    @{t('property')}", f"    def {n}(self) -> {t(get)}: ...",
                    f"    @{n}.setter", f"    def {n}(self, value: {t(put)}) -> None: ..."]
        if not sp.fields:
            out.append("    ...")
    return out


def _proxy_class(plan: PackagePlan) -> list[str]:
    out = [f"class {plan.class_name}(LibraryProxy):",
           "    @property", f"    def helpers(self) -> {plan.helpers_name}: ..."]
    t = _unshadow(fp.pyname for fp in plan.functions)
    stubs = Stubs(plan)
    for fp in plan.functions:  # the C prototype and where it is, for editors
        params = [f"{p}: {t(stubs.param(ty))}" if i not in fp.enum_params  # an enum: the
                  else f"{p}: {t(fp.enum_params[i])} | int"             # IntEnum or an int
                  for i, (p, ty) in enumerate(zip(fp.params, fp.sig.params))]
        out += bracketed(f"def {fp.pyname}(", ["self", *params, *(["/"] if params else [])],
                         f") -> {t(stubs.result(fp.sig.result))}:", "    ")
        out.append(docstring(fp.doc, "        ", WIDTH))
    return out


def _helpers_class(plan: PackagePlan) -> list[str]:
    out = ["", f"class {plan.helpers_name}(Helpers):"]
    helped = [fp for fp in plan.functions if fp.has_helper]
    t = _unshadow(fp.pyname for fp in helped)
    stubs = Stubs(plan)
    for fp in helped:
        assert fp.annotation is not None
        params = {p: stubs.param(ty) for p, ty in zip(fp.helper_params, fp.sig.params)}
        typed, result = helper_stub(fp.helper_params, fp.annotation, params,
                                    stubs.result(fp.sig.result), fp.pointee)
        out += bracketed(f"def {fp.pyname}(", ["self", *(f"{p}: {t(ty)}" for p, ty in typed)],
                         f") -> {t(result)}: ...", "    ")
    return out if helped else out + ["    ..."]


def _unshadow(members: Iterable[str]) -> Callable[[str], str]:
    """Spell an annotation in a class with ``members``: a builtin one of them shadows
    (a field ``bytes``, a method ``property``) is written ``builtins.NAME``."""
    shadowed = set(members) & BUILTINS
    return lambda annotation: re.sub(r"\b[A-Za-z_]\w*\b", lambda m: f"builtins.{m[0]}"
                                     if m[0] in shadowed else m[0], annotation)
