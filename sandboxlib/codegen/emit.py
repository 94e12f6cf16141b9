"""Emitters: the proxy module and its ``.pyi`` stubs, from the IR.

Both are plain text built from the same ``Plan`` (what is exported, under which
Python names, with which runtime types), so the stubs always match the proxy.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import __version__
from ..abi import CType, FuncPtr, Prim, Ptr, Signature
from ..proxy import Helpers, LibraryProxy
from ..structs import ArrayOf, Struct
from . import ir
from .annotations import Annotation, check_annotation
from .helpers import HELPER_LOCALS, helper_params, helper_source, helper_stub
from .lower import CannotProxy, Lowering, prototype, spell
from .names import BUILTINS, docstring, literal, members, python_names

WIDTH = 99


# What the generated module imports, and the names it defines itself: C names that
# would shadow them (or a Python builtin) are renamed by ``names.python_names``.
PROXY_IMPORTS = (("__future__", ("annotations",)), ("pathlib", ("Path",)),
                 ("sandboxlib", ("ArgumentError", "FuncPtr", "Function", "Grants", "Library",
                                 "Limits", "Prim", "Ptr", "Signature")),
                 ("sandboxlib.proxy", ("ArrayOf", "Helpers", "LibraryProxy", "Struct")))
STUB_IMPORTS = (("typing", ("Any", "NoReturn")),
                ("sandboxlib", ("Grants", "Library", "Limits", "Signature", "Tainted",
                                "TaintedPtr")),
                ("sandboxlib.proxy", ("CallbackArg", "ConstData", "Helpers", "LibraryProxy",
                                      "PointerArg", "Struct")))
MODULE_NAMES = (BUILTINS | {n for _, names in PROXY_IMPORTS + STUB_IMPORTS for n in names}
                | {"builtins", "_HERE", "FUNCTIONS", "LIBRARY", "sandbox"})
# Names the stubs' annotations use besides builtins (a builtin that a class member
# shadows is written ``builtins.NAME`` in that class) and the generated classes' names.
ANNOTATION_NAMES = frozenset({"builtins", "Any", "NoReturn", "Tainted", "TaintedPtr",
                              "PointerArg", "ConstData", "CallbackArg"})
PROXY_MEMBERS = members(LibraryProxy, Helpers) | ANNOTATION_NAMES | {"helpers"}
STRUCT_MEMBERS = members(Struct) | ANNOTATION_NAMES


@dataclass
class StructPlan:
    tag: str
    pyname: str
    union: bool
    fields: list[tuple[str, str, str, str]]  # name, runtime type expr, stub get, stub set
    doc: str


@dataclass
class FunctionPlan:
    name: str  # the C name, which the module exports
    pyname: str  # the method's name
    sig: Signature
    doc: str
    params: list[str]  # Python parameter names
    annotation: Annotation | None = None  # naming the helper's parameters
    pointee: dict[str, Prim] = field(default_factory=dict)  # helper's pointer-to-integer params
    helper_params: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Everything the emitters need, decided once."""

    name: str
    class_name: str = ""
    helpers_name: str = ""
    headers: list[str] = field(default_factory=list)
    constants: list[ir.Constant] = field(default_factory=list)  # under their Python names
    callbacks: dict[str, Signature] = field(default_factory=dict)  # by Python name
    structs: list[StructPlan] = field(default_factory=list)
    functions: list[FunctionPlan] = field(default_factory=list)
    skipped: list[ir.Skipped] = field(default_factory=list)
    renamed: list[ir.Renamed] = field(default_factory=list)
    build: dict[str, list[str]] = field(default_factory=dict)  # sources, headers, include_dirs...

    def python_names(self, entries: list[tuple[str, str, ir.Location | None]],
                     reserved: Collection[str]) -> list[str]:
        """``names.python_names`` of entries (what, C name, location), recording renames."""
        py = python_names([name for _, name, _ in entries], reserved)
        self.renamed += [ir.Renamed(what, p, loc) for (what, name, loc), p in zip(entries, py)
                         if p != name]
        return py


def _pointees(fn: ir.Function) -> dict[str, Prim]:
    return {p.name: p.type.target.prim for p in fn.type.params
            if isinstance(p.type, ir.Pointer) and isinstance(p.type.target, ir.Scalar)
            and p.type.target.prim.is_integer}


def make_plan(api: ir.Api, name: str, headers: list[str], exports: list[str] | None,
              annotations: dict[str, Annotation] | None = None, where: str = "spec") -> Plan:
    """Decide what to export and under which Python names; skipped declarations are
    recorded with their reason, renamed ones with their Python name."""
    lower = Lowering(api)
    plan = Plan(name, headers=headers, skipped=list(api.skipped))
    wanted = None if exports is None else set(exports)
    exported: list[tuple[ir.Function, Signature]] = []
    for fn in api.functions:
        if wanted is not None and fn.name not in wanted:
            continue
        try:
            exported.append((fn, lower.signature(fn.type)))
        except CannotProxy as why:
            plan.skipped.append(ir.Skipped(fn.name, str(why), fn.location))
    names = {fn.name for fn, _ in exported}
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
    tags: list[str] = []
    for tag in _structs_used(api, headers, {fn.name for fn, _ in exported}):
        s = api.structs[tag]
        problem = lower.struct_problem(tag)
        if problem and s.fields is not None:
            plan.skipped.append(ir.Skipped(f"struct {tag}", f"no view class: {problem}",
                                           s.location))
        elif not problem:
            tags.append(tag)

    lib_class = "".join(p.capitalize() for p in name.replace("-", "_").split("_")) or "Lib"
    module = iter(plan.python_names(
        [(f"class {lib_class}", lib_class, None),
         (f"class {lib_class}Helpers", f"{lib_class}Helpers", None),
         *[(f"constant {c.name}", c.name, c.location) for c in plan.constants],
         *[(f"callback type {n}", n, None) for n in plan.callbacks],
         *[(f"struct {tag}", f"struct_{tag}" if tag in names else tag,  # C's tag namespace
            api.structs[tag].location) for tag in tags]], MODULE_NAMES))
    plan.class_name, plan.helpers_name = next(module), next(module)
    plan.constants = [replace(c, name=next(module)) for c in plan.constants]
    plan.callbacks = {next(module): sig for sig in plan.callbacks.values()}
    for tag in tags:
        s = api.structs[tag]
        kind = "union" if s.union else "struct"
        plan.structs.append(StructPlan(tag, next(module), s.union, [],
                                       f"{kind} {tag}  [{_where(s.location)}]"))
    classes = {plan.class_name, plan.helpers_name, *(sp.pyname for sp in plan.structs)}

    methods = plan.python_names([(f"function {fn.name}", fn.name, fn.location)
                                 for fn, _ in exported], PROXY_MEMBERS | classes)
    by_c_name = {fn.name: py for (fn, _), py in zip(exported, methods)}
    for (fn, sig), pyname in zip(exported, methods):
        params = plan.python_names([(f"parameter {p} of {fn.name}", p, fn.location)
                                    for p in sig.param_names], {"self"})
        fp = FunctionPlan(fn.name, pyname, sig, f"{prototype(fn)}  [{_where(fn.location)}]",
                          params, (annotations or {}).get(fn.name))
        if fp.annotation is not None:
            check_annotation(fn.name, fp.annotation, sig, _pointees(fn), set(by_c_name), where)
            _name_helper(plan, fp, fn, by_c_name)
        plan.functions.append(fp)
    struct_names = {sp.tag: sp.pyname for sp in plan.structs}
    for sp in plan.structs:
        s = api.structs[sp.tag]
        fields = s.fields or []
        pynames = plan.python_names([(f"field {f.name} of struct {sp.tag}", f.name, s.location)
                                     for f in fields], STRUCT_MEMBERS | classes)
        sp.fields = [(py, *_field_exprs(f.type, lower, struct_names))
                     for f, py in zip(fields, pynames)]
    return plan


def _name_helper(plan: Plan, fp: FunctionPlan, fn: ir.Function, methods: dict[str, str]) -> None:
    """Name the helper's parameters (its own namespace: the names its body uses are
    taken) and restate the annotation with them; renames of the parameters the helper
    takes are recorded."""
    assert fp.annotation is not None
    ann, c_names = fp.annotation, list(fp.sig.param_names)
    fp.helper_params = python_names(c_names, HELPER_LOCALS)
    h = dict(zip(c_names, fp.helper_params))
    kept = helper_params(c_names, ann)
    plan.renamed += [ir.Renamed(f"parameter {c} of helpers.{fn.name}", h[c], fn.location)
                     for c in kept if h[c] != c]
    fp.pointee = {h[p]: prim for p, prim in _pointees(fn).items()}
    fp.annotation = replace(ann, buffers={h[d]: h[n] for d, n in ann.buffers.items()},
                            out=[h[p] for p in ann.out], nullable=[h[p] for p in ann.nullable],
                            free=methods.get(ann.free or "", ann.free))


def _where(loc: ir.Location | None) -> str:
    return f"{Path(loc.file).name}:{loc.line}" if loc else "?"


def _structs_used(api: ir.Api, headers: list[str], exported: set[str]) -> list[str]:
    """Struct tags to emit: defined in the given headers, or reachable from an
    exported function, in dependency order (nested structs first)."""
    own = {str(Path(h).resolve()) for h in headers}
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
        if fn.name in exported:
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
    parts, depth, quote, escaped, current = [], 0, "", False, ""
    for ch in inner:
        if quote:
            quote = "" if ch == quote and not escaped else quote
            escaped = ch == "\\" and not escaped
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


def _header(plan: Plan, what: str, imports: tuple[tuple[str, tuple[str, ...]], ...],
            *plain: str) -> list[str]:
    """The module docstring and imports (``plain``: ``import NAME`` lines)."""
    out = [docstring(f"{plan.name}: {what} generated by sandboxlib {__version__} from "
                     f"{', '.join(Path(h).name for h in plan.headers)}.\n\n"
                     "Generated code: DO NOT EDIT. Regenerate with `sandboxlib wrap` or "
                     "`sandboxlib gen`.\n", "", WIDTH), "", *plain]
    for module, names in imports:
        head = f"from {module} import "
        out += [head + ", ".join(names) if len(head) + len(", ".join(names)) <= WIDTH else
                textwrap.fill(", ".join(names), WIDTH - 1, initial_indent=head + "(",
                              subsequent_indent=" " * (len(head) + 1)) + ")"]
        out += [] if module.startswith("sandboxlib") else [""]
    return out + [""]


def emit_proxy(plan: Plan) -> str:
    out = _header(plan, "sandboxed proxy", PROXY_IMPORTS)
    out += ["_HERE = Path(__file__).resolve().parent", ""]
    if plan.constants:
        out += ["# -- constants ---------------------------------------------------------------"]
        out += [f"{c.name} = {literal(c.value)}" for c in plan.constants] + [""]
    if plan.callbacks:
        out += ["# -- callback types (register with lib.callback(fn, TYPE)) --------------------"]
        for name, sig in plan.callbacks.items():
            out += pretty(f"{name} = {sig_expr(sig)}", "")
        out.append("")
    for sp in plan.structs:
        out += ["", "", f"class {sp.pyname}(Struct):", docstring(sp.doc, "    ", WIDTH), ""]
        if sp.union:
            out.append("    _union_ = True")
        out += _wrap("_fields_ = (", [f"({n!r}, {e})" for n, e, _, _ in sp.fields], ")", "    ")
    out += ["", "", "FUNCTIONS = ("]
    for fp in plan.functions:
        out += _wrap("Function(", [repr(fp.name), sig_expr(fp.sig)], "),", "    ")
    out += [")", "", "LIBRARY = Library(", f"    {plan.name!r},", "    FUNCTIONS,",
            '    wasm=_HERE / "module.wasm",']
    for key in ("sources", "headers", "include_dirs"):
        paths = [f"_HERE / {p!r}" for p in plan.build.get(key, [])]
        out += _wrap(f"{key}=(", paths, "),", "    ")
    for key in ("defines", "cflags"):
        values = plan.build.get(key, [])
        out.append(f"    {key}={tuple(values)!r},")
    out += [")", "", "", f"class {plan.class_name}(LibraryProxy):",
            f'    """The {plan.name} library in a sandbox: one method per C function; every '
            'result is tainted."""',
            "", "    @property", f"    def helpers(self) -> {plan.helpers_name}:",
            '        """High-level helpers generated from the spec\'s annotations."""',
            f"        return {plan.helpers_name}(self)"]
    for fp in plan.functions:
        args = ", ".join(fp.params)
        attr = "" if fp.pyname == fp.name else f", {fp.pyname!r}"
        out += ["", f"    def {fp.pyname}(self{', ' if args else ''}{args}):  # type: ignore",
                docstring(fp.doc, "        ", WIDTH),
                f"        return self._bind({fp.name!r}{attr})({args})"]
    helped = [fp for fp in plan.functions if fp.annotation and fp.annotation.has_helper]
    out += ["", "", f"class {plan.helpers_name}(Helpers):",
            '    """Bytes in, values out: helpers from the spec\'s annotations."""']
    for fp in helped:
        assert fp.annotation is not None
        out += ["", *helper_source(fp.name, fp.pyname, fp.helper_params, list(fp.sig.params),
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
    out = _header(plan, "type stubs", STUB_IMPORTS, "import builtins")
    for c in plan.constants:
        out.append(f"{c.name}: {type(c.value).__name__}")
    for name in plan.callbacks:
        out.append(f"{name}: Signature")
    for sp in plan.structs:
        out += ["", f"class {sp.pyname}(Struct):"]
        t = _unshadow({n for n, _, _, _ in sp.fields})
        for n, _, get, put in sp.fields or [("", "", "", "")]:
            if not n:
                out.append("    ...")
                continue
            out += [f"    @{t('property')}", f"    def {n}(self) -> {t(get)}: ...",
                    f"    @{n}.setter", f"    def {n}(self, value: {t(put)}) -> None: ..."]
    out += ["", "FUNCTIONS: tuple[Any, ...]", "LIBRARY: Library", "",
            f"class {plan.class_name}(LibraryProxy):",
            "    @property", f"    def helpers(self) -> {plan.helpers_name}: ..."]
    t = _unshadow({fp.pyname for fp in plan.functions})
    for fp in plan.functions:
        params = [f"{p}: {t(param_stub(ty))}" for p, ty in zip(fp.params, fp.sig.params)]
        out += _wrap(f"def {fp.pyname}(", ["self", *params],
                     f") -> {t(result_stub(fp.sig.result))}: ...", "    ")
    out += ["", f"class {plan.helpers_name}(Helpers):"]
    helped = [fp for fp in plan.functions if fp.annotation and fp.annotation.has_helper]
    t = _unshadow({fp.pyname for fp in helped})
    for fp in helped:
        assert fp.annotation is not None
        stubs = {p: param_stub(ty) for p, ty in zip(fp.helper_params, fp.sig.params)}
        hname, typed, result = helper_stub(fp.pyname, fp.helper_params, list(fp.sig.params),
                                           fp.annotation, stubs, result_stub(fp.sig.result))
        out += _wrap(f"def {hname}(", ["self", *(f"{p}: {t(ty)}" for p, ty in typed)],
                     f") -> {t(result)}: ...", "    ")
    if not helped:
        out.append("    ...")
    out += ["", "def sandbox(backend: str | None = ..., *, limits: Limits | None = ...,",
            f"            grants: Grants | None = ...) -> {plan.class_name}: ...", ""]
    return "\n".join(out)


def _unshadow(members: set[str]) -> Callable[[str], str]:
    """Spell an annotation in a class with ``members``: a builtin one of them shadows
    (a field ``bytes``, a method ``property``) is written ``builtins.NAME``."""
    shadowed = members & BUILTINS
    return lambda annotation: re.sub(r"\b[A-Za-z_]\w*\b", lambda m: f"builtins.{m[0]}"
                                     if m[0] in shadowed else m[0], annotation)


def warn_skipped(plan: Plan) -> None:
    """One warning line per renamed name and per skipped declaration."""
    for r in plan.renamed:
        print(f"sandboxlib: warning: renamed {r}", file=sys.stderr)
    for s in plan.skipped:
        print(f"sandboxlib: warning: skipped {s}", file=sys.stderr)
