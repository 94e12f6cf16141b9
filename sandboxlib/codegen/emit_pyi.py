"""The type stubs (``__init__.pyi``) of a generated package, from its plan.

Every value that comes out of the sandbox is typed ``Tainted[...]`` (``TaintedPtr``
for pointers), so ``mypy`` rejects code that uses one where a plain value is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..abi import CType, FuncPtr, Prim, Ptr
from .formatting import bracketed, module_header
from .helpers import helper_stub
from .lower import FieldType, FixedArray, Nested
from .names import BUILTINS
from .plan import STUB_IMPORTS, Plan

_CHARS = (Prim.CHAR, Prim.SCHAR, Prim.UCHAR)


def result_stub(t: CType) -> str:
    """The stub type of a value read from the sandbox."""
    if t is Prim.VOID:
        return "None"
    if isinstance(t, (Ptr, FuncPtr)):
        return "TaintedPtr"
    if t is Prim.BOOL:
        return "Tainted[bool]"
    return "Tainted[float]" if t.is_float else "Tainted[int]"


def param_stub(t: CType) -> str:
    """The stub type of a value passed into the sandbox."""
    if isinstance(t, FuncPtr):
        return "CallbackArg"
    if isinstance(t, Ptr):
        return "ConstData" if t.const else "PointerArg"
    return "float" if t.is_float else "int"


def field_stubs(t: FieldType, classes: dict[str, str]) -> tuple[str, str]:
    """(stub type when a field is read, when it is written); ``classes``: view class
    by tag. A char array reads as bytes; other arrays cannot be assigned whole."""
    if isinstance(t, Nested):
        return classes[t.tag], classes[t.tag]
    if isinstance(t, FixedArray):
        if t.element in _CHARS:
            return "Tainted[bytes]", "bytes"
        return "Tainted[list[Any]]", "NoReturn"
    return result_stub(t), param_stub(t)


def emit_stub(plan: Plan) -> str:
    """The source of the package's ``__init__.pyi``."""
    out = module_header(plan.name, "type stubs", plan.headers, STUB_IMPORTS, "import builtins")
    out += [f"{c.name}: {type(c.value).__name__}" for c in plan.constants]
    out += [f"{name}: Signature" for name in plan.callbacks]
    out += _structs(plan)
    out += ["", "FUNCTIONS: tuple[Any, ...]", "LIBRARY: Library", ""]
    out += _proxy_class(plan) + _helpers_class(plan)
    out += ["", "def sandbox(backend: str | None = ..., *, limits: Limits | None = ...,",
            f"            grants: Grants | None = ...) -> {plan.class_name}: ...", ""]
    return "\n".join(out)


def _structs(plan: Plan) -> list[str]:
    out: list[str] = []
    classes = plan.struct_classes()
    for sp in plan.structs:
        out += ["", f"class {sp.pyname}(Struct):"]
        t = _unshadow(n for n, _ in sp.fields)
        for n, ftype in sp.fields:
            get, put = field_stubs(ftype, classes)
            out += [f"    @{t('property')}", f"    def {n}(self) -> {t(get)}: ...",
                    f"    @{n}.setter", f"    def {n}(self, value: {t(put)}) -> None: ..."]
        if not sp.fields:
            out.append("    ...")
    return out


def _proxy_class(plan: Plan) -> list[str]:
    out = [f"class {plan.class_name}(LibraryProxy):",
           "    @property", f"    def helpers(self) -> {plan.helpers_name}: ..."]
    t = _unshadow(fp.pyname for fp in plan.functions)
    for fp in plan.functions:
        params = [f"{p}: {t(param_stub(ty))}" for p, ty in zip(fp.params, fp.sig.params)]
        out += bracketed(f"def {fp.pyname}(", ["self", *params, *(["/"] if params else [])],
                         f") -> {t(result_stub(fp.sig.result))}: ...", "    ")
    return out


def _helpers_class(plan: Plan) -> list[str]:
    out = ["", f"class {plan.helpers_name}(Helpers):"]
    helped = [fp for fp in plan.functions if fp.has_helper]
    t = _unshadow(fp.pyname for fp in helped)
    for fp in helped:
        assert fp.annotation is not None
        stubs = {p: param_stub(ty) for p, ty in zip(fp.helper_params, fp.sig.params)}
        typed, result = helper_stub(fp.helper_params, fp.annotation, stubs,
                                    result_stub(fp.sig.result), fp.pointee)
        out += bracketed(f"def {fp.pyname}(", ["self", *(f"{p}: {t(ty)}" for p, ty in typed)],
                         f") -> {t(result)}: ...", "    ")
    return out if helped else out + ["    ..."]


def _unshadow(members: Iterable[str]) -> Callable[[str], str]:
    """Spell an annotation in a class with ``members``: a builtin one of them shadows
    (a field ``bytes``, a method ``property``) is written ``builtins.NAME``."""
    shadowed = set(members) & BUILTINS
    return lambda annotation: re.sub(r"\b[A-Za-z_]\w*\b", lambda m: f"builtins.{m[0]}"
                                     if m[0] in shadowed else m[0], annotation)
