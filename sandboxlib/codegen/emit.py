"""Emitters: the proxy module and its ``.pyi`` stubs, from the IR.

Both are plain text built from the same ``Plan`` (what is exported, under which
Python names, with which runtime types), so the stubs always match the proxy.
"""

from __future__ import annotations

import keyword
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..abi import CType, FuncPtr, Prim, Ptr, Signature
from ..structs import ArrayOf
from . import ir
from .annotations import Annotation, check_annotation
from .helpers import helper_source, helper_stub
from .lower import CannotProxy, Lowering, prototype, spell

WIDTH = 99


@dataclass
class StructPlan:
    tag: str
    pyname: str
    union: bool
    fields: list[tuple[str, str, str, str]]  # name, runtime type expr, stub get, stub set
    doc: str


@dataclass
class FunctionPlan:
    name: str
    sig: Signature
    doc: str
    params: list[str]  # Python parameter names
    annotation: Annotation | None = None
    pointee: dict[str, Prim] = field(default_factory=dict)  # pointer-to-integer params


@dataclass
class Plan:
    """Everything the emitters need, decided once."""

    name: str
    class_name: str
    headers: list[str]
    constants: list[ir.Constant] = field(default_factory=list)
    callbacks: dict[str, Signature] = field(default_factory=dict)
    structs: list[StructPlan] = field(default_factory=list)
    functions: list[FunctionPlan] = field(default_factory=list)
    skipped: list[ir.Skipped] = field(default_factory=list)
    build: dict[str, list[str]] = field(default_factory=dict)  # sources, headers, include_dirs...


def pyname(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or name in ("self",) else name


def _pointees(fn: ir.Function) -> dict[str, Prim]:
    return {p.name: p.type.target.prim for p in fn.type.params
            if isinstance(p.type, ir.Pointer) and isinstance(p.type.target, ir.Scalar)
            and p.type.target.prim.is_integer}


def make_plan(api: ir.Api, name: str, headers: list[str], exports: list[str] | None,
              annotations: dict[str, Annotation] | None = None, where: str = "spec") -> Plan:
    """Decide what to export; skipped declarations are recorded with their reason."""
    lower = Lowering(api)
    plan = Plan(name, "".join(p.capitalize() for p in name.replace("-", "_").split("_")) or "Lib",
                headers, skipped=list(api.skipped))
    names = set()
    wanted = None if exports is None else set(exports)
    for fn in api.functions:
        if wanted is not None and fn.name not in wanted:
            continue
        try:
            sig = lower.signature(fn.type)
        except CannotProxy as why:
            plan.skipped.append(ir.Skipped(fn.name, str(why), fn.location))
            continue
        params = [pyname(p) for p in sig.param_names]
        plan.functions.append(FunctionPlan(fn.name, sig, f"{prototype(fn)}  [{_where(fn.location)}]",
                                           params, (annotations or {}).get(fn.name),
                                           _pointees(fn)))
        names.add(fn.name)
    exported = {fp.name for fp in plan.functions}
    for fp in plan.functions:
        if fp.annotation is not None:
            check_annotation(fp.name, fp.annotation, fp.sig, fp.pointee, exported, where)
    for const in api.constants:
        if const.name not in names:
            plan.constants.append(const)
            names.add(const.name)
    for enum in api.enums.values():
        for item, value in enum.values.items():
            if item not in names and not item.startswith("_"):
                plan.constants.append(ir.Constant(item, value, enum.location))
                names.add(item)
    for tname, t in api.typedefs.items():
        if isinstance(t, ir.Pointer) and isinstance(t.target, ir.FuncType) and tname not in names:
            try:
                plan.callbacks[tname] = lower.signature(t.target)
                names.add(tname)
            except CannotProxy:
                pass
    for tag in _structs_used(api, plan):
        s = api.structs[tag]
        problem = lower.struct_problem(tag)
        if problem:
            if s.fields is not None:
                plan.skipped.append(ir.Skipped(f"struct {tag}", f"no view class: {problem}",
                                               s.location))
            continue
        py = tag if tag not in names and not keyword.iskeyword(tag) else f"struct_{tag}"
        names.add(py)
        plan.structs.append(StructPlan(tag, py, s.union, [], f"{'union' if s.union else 'struct'} "
                                                          f"{tag}  [{_where(s.location)}]"))
    struct_names = {sp.tag: sp.pyname for sp in plan.structs}
    for sp in plan.structs:
        fields = api.structs[sp.tag].fields or []
        sp.fields = [(pyname(f.name), *_field_exprs(f.type, lower, struct_names)) for f in fields]
    return plan


def _where(loc: ir.Location | None) -> str:
    return f"{Path(loc.file).name}:{loc.line}" if loc else "?"


def _structs_used(api: ir.Api, plan: Plan) -> list[str]:
    """Struct tags to emit: defined in the given headers, or reachable from an
    exported function, in dependency order (nested structs first)."""
    own = {str(Path(h).resolve()) for h in plan.headers}
    order: list[str] = []
    entered: set[str] = set()  # a struct that points to itself is visited once

    def visit(t: ir.CType) -> None:
        if isinstance(t, (ir.Pointer, ir.Array)):
            visit(t.target if isinstance(t, ir.Pointer) else t.element)
        elif isinstance(t, ir.FuncType):
            for p in t.params:
                visit(p.type)
            visit(t.result)
        elif isinstance(t, ir.StructRef) and t.tag not in entered and t.tag in api.structs:
            entered.add(t.tag)
            for f in api.structs[t.tag].fields or []:
                visit(f.type)
            if t.tag not in order:
                order.append(t.tag)

    for fn in api.functions:
        if any(f.name == fn.name for f in plan.functions):
            visit(fn.type)
    for tag, s in api.structs.items():
        if s.location and str(Path(s.location.file).resolve()) in own:
            visit(ir.StructRef(tag, s.union))
    return order


def _field_exprs(t: ir.CType, lower: Lowering, structs: dict[str, str]) -> tuple[str, str, str]:
    """(runtime type expression, stub type when read, stub type when written)."""
    if isinstance(t, ir.StructRef):
        return structs[t.tag], structs[t.tag], structs[t.tag]
    if isinstance(t, ir.Array):
        assert t.length is not None
        inner = _field_exprs(t.element, lower, structs)[0]
        is_chars = isinstance(t.element, ir.Scalar) and t.element.prim in (
            Prim.CHAR, Prim.SCHAR, Prim.UCHAR)
        return (f"ArrayOf({inner}, {t.length})", "Tainted[bytes]" if is_chars else
                "Tainted[list[Any]]", "bytes" if is_chars else "NoReturn")
    runtime = lower.value(t, "field")
    return type_expr(runtime), result_stub(runtime), param_stub(runtime)


def type_expr(t: CType) -> str:
    """Python source that rebuilds a runtime type."""
    if isinstance(t, Prim):
        return f"Prim.{t.name}"
    if isinstance(t, Ptr):
        return f"Ptr({t.target!r}{', const=True' if t.const else ''})"
    return f"FuncPtr({sig_expr(t.sig)})"


def sig_expr(sig: Signature) -> str:
    params = ", ".join(type_expr(p) for p in sig.params) + ("," if len(sig.params) == 1 else "")
    return f"Signature(({params}), {type_expr(sig.result)}, {tuple(sig.param_names)!r})"


def result_stub(t: CType) -> str:
    if t is Prim.VOID:
        return "None"
    if isinstance(t, (Ptr, FuncPtr)):
        return "TaintedPtr"
    if t is Prim.BOOL:
        return "Tainted[bool]"
    return "Tainted[float]" if t.is_float else "Tainted[int]"


def param_stub(t: CType) -> str:
    if isinstance(t, FuncPtr):
        return "CallbackArg"
    if isinstance(t, Ptr):
        return "ConstData" if t.const else "PointerArg"
    return "float" if t.is_float else "int"


def _split_args(inner: str) -> list[str]:
    """Split at top-level commas (outside brackets and quotes)."""
    parts, depth, quote, current = [], 0, "", ""
    for ch in inner:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def pretty(expr: str, indent: str, suffix: str = "") -> list[str]:
    """``expr`` on one line if it fits, else its outermost call or tuple split one
    argument per line, recursively (a small formatter for generated code)."""
    if len(indent) + len(expr) + len(suffix) <= WIDTH or not expr.endswith(")"):
        return [f"{indent}{expr}{suffix}"]
    depth, open_at = 0, -1
    for i, ch in enumerate(expr):
        if ch == "(":
            if depth == 0:
                open_at = i
                break
    if open_at < 0:
        return [f"{indent}{expr}{suffix}"]
    head, inner = expr[:open_at + 1], expr[open_at + 1:-1]
    lines = [f"{indent}{head}"]
    for arg in _split_args(inner):
        lines += pretty(arg, indent + "    ", ",")
    return lines + [f"{indent}){suffix}"]


def _wrap(head: str, items: list[str], tail: str, indent: str) -> list[str]:
    """``head(items)tail``, formatted by ``pretty``."""
    items = [i for i in items if i]
    body = ", ".join(items) + ("," if len(items) == 1 and head.endswith("=(") else "")
    expr = f"{head}{body}{tail}"
    if len(indent) + len(expr) <= WIDTH:
        return [f"{indent}{expr}"]
    lines = [f"{indent}{head}"]
    for item in items:
        lines += pretty(item, indent + "    ", ",")
    return lines + [f"{indent}{tail}"]


def _header(plan: Plan, what: str) -> list[str]:
    return [f'"""{plan.name}: {what} generated by sandboxlib {__version__} from '
            f'{", ".join(Path(h).name for h in plan.headers)}.',
            "",
            "Generated code: DO NOT EDIT. Regenerate with `sandboxlib wrap` or `sandboxlib gen`.",
            '"""']


def emit_proxy(plan: Plan) -> str:
    out = _header(plan, "sandboxed proxy")
    out += ["", "from __future__ import annotations", "", "from pathlib import Path", "",
            "from sandboxlib import (ArgumentError, FuncPtr, Function, Grants, Library, Limits, Prim,",
            "                        Ptr, Signature)",
            "from sandboxlib.proxy import ArrayOf, Helpers, LibraryProxy, Struct", "",
            "_HERE = Path(__file__).resolve().parent", ""]
    if plan.constants:
        out += ["# -- constants ---------------------------------------------------------------"]
        out += [f"{c.name} = {c.value!r}" for c in plan.constants] + [""]
    if plan.callbacks:
        out += ["# -- callback types (register with lib.callback(fn, TYPE)) --------------------"]
        for name, sig in plan.callbacks.items():
            out += pretty(f"{name} = {sig_expr(sig)}", "")
        out.append("")
    for sp in plan.structs:
        out += ["", "", f"class {sp.pyname}(Struct):", f'    """{sp.doc}"""', ""]
        if sp.union:
            out.append("    _union_ = True")
        out += _wrap("_fields_ = (", [f"({n!r}, {e})" for n, e, _, _ in sp.fields], ")", "    ")
    out += ["", "", "FUNCTIONS = ("]
    for fp in plan.functions:
        out += _wrap("Function(", [repr(fp.name), sig_expr(fp.sig)], "),", "    ")
    out += [")", "", "LIBRARY = Library(", f"    {plan.name!r},", "    FUNCTIONS,",
            '    wasm=_HERE / "module.wasm",']
    for key in ("sources", "headers", "include_dirs"):
        paths = [f'_HERE / "{p}"' for p in plan.build.get(key, [])]
        out += _wrap(f"{key}=(", paths, "),", "    ")
    for key in ("defines", "cflags"):
        values = plan.build.get(key, [])
        out.append(f"    {key}={tuple(values)!r},")
    out += [")", "", "", f"class {plan.class_name}(LibraryProxy):",
            f'    """The {plan.name} library in a sandbox: one method per C function; every '
            'result is tainted."""']
    for fp in plan.functions:
        args = ", ".join(fp.params)
        doc = (f'        """{fp.doc}"""' if len(fp.doc) + 14 <= WIDTH else
               textwrap.fill(fp.doc, WIDTH, initial_indent='        """',
                             subsequent_indent="        ") + '\n        """')
        out += ["", f"    def {pyname(fp.name)}(self{', ' if args else ''}{args}):  # type: ignore",
                doc,
                f"        return self._bind({fp.name!r})({args})"]
    helped = [fp for fp in plan.functions if fp.annotation and fp.annotation.has_helper]
    out += ["", "    @property", f"    def helpers(self) -> {plan.class_name}Helpers:",
            '        """High-level helpers generated from the spec\'s annotations."""',
            f"        return {plan.class_name}Helpers(self)", "", "",
            f"class {plan.class_name}Helpers(Helpers):",
            '    """Bytes in, values out: helpers from the spec\'s annotations."""']
    for fp in helped:
        assert fp.annotation is not None
        out += ["", *helper_source(fp.name, pyname(fp.name), fp.params, list(fp.sig.params),
                                   fp.annotation, fp.pointee)]
    if not helped:
        out += ["", "    pass"]
    out += ["", "", "def sandbox(backend=None, *, limits=None, grants=None):  # type: ignore",
            f'    """A fresh {plan.name} sandbox.',
            "",
            '    backend: "wasmtime", "wasm2c" or "native" (default: $SANDBOXLIB_BACKEND, else',
            '    wasmtime); limits: sandboxlib.Limits; grants: sandboxlib.Grants (default: none).',
            '    """',
            f"    return {plan.class_name}(LIBRARY.sandbox(backend, limits=limits, grants=grants))",
            ""]
    return "\n".join(line.rstrip() for line in out)


def emit_stub(plan: Plan) -> str:
    out = _header(plan, "type stubs")
    out += ["", "from typing import Any, NoReturn", "",
            "from sandboxlib import Grants, Library, Limits, Signature, Tainted, TaintedPtr",
            "from sandboxlib.proxy import (CallbackArg, ConstData, Helpers, LibraryProxy, PointerArg,",
            "                              Struct)",
            ""]
    for c in plan.constants:
        out.append(f"{c.name}: {type(c.value).__name__}")
    for name in plan.callbacks:
        out.append(f"{name}: Signature")
    for sp in plan.structs:
        out += ["", f"class {sp.pyname}(Struct):"]
        for n, _, get, put in sp.fields or [("", "", "", "")]:
            if not n:
                out.append("    ...")
                continue
            out += ["    @property", f"    def {n}(self) -> {get}: ...",
                    f"    @{n}.setter", f"    def {n}(self, value: {put}) -> None: ..."]
    out += ["", "FUNCTIONS: tuple[Any, ...]", "LIBRARY: Library", "",
            f"class {plan.class_name}(LibraryProxy):"]
    for fp in plan.functions:
        params = [f"{p}: {param_stub(t)}" for p, t in zip(fp.params, fp.sig.params)]
        out += _wrap(f"def {pyname(fp.name)}(", ["self", *params],
                     f") -> {result_stub(fp.sig.result)}: ...", "    ")
    out += ["    @property", f"    def helpers(self) -> {plan.class_name}Helpers: ...", "",
            f"class {plan.class_name}Helpers(Helpers):"]
    helped = [fp for fp in plan.functions if fp.annotation and fp.annotation.has_helper]
    for fp in helped:
        assert fp.annotation is not None
        stubs = {p: param_stub(t) for p, t in zip(fp.params, fp.sig.params)}
        hname, typed, result = helper_stub(pyname(fp.name), fp.params, list(fp.sig.params),
                                           fp.annotation, stubs, result_stub(fp.sig.result))
        out += _wrap(f"def {hname}(", ["self", *typed], f") -> {result}: ...", "    ")
    if not helped:
        out.append("    ...")
    out += ["", "def sandbox(backend: str | None = ..., *, limits: Limits | None = ...,",
            f"            grants: Grants | None = ...) -> {plan.class_name}: ...", ""]
    return "\n".join(out)


def warn_skipped(plan: Plan) -> None:
    for s in plan.skipped:
        print(f"sandboxlib: warning: skipped {s}", file=sys.stderr)
