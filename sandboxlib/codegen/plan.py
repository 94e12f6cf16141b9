"""What a generated package contains, decided once for both emitters.

``make_plan`` reads the IR and decides what is exported (functions whose signature
lowers, constants, enum values, callback types, structs that can have a view class),
under which Python names (``names.python_names``, the one rename rule), with which
runtime types; skipped declarations are recorded with their reason and renamed ones
with their Python name. The emitters only spell the plan out.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..abi import Prim, Ptr, Signature
from ..errors import BuildError, GeneratorWarning
from . import ir
from .annotations import Annotation, check_annotation
from .helpers import HELPER_LOCALS, helper_params
from .lower import CannotProxy, FieldType, Lowering, prototype
from .names import (BUILTINS, HELPERS_MEMBERS, LIBRARY_PROXY_MEMBERS, STRUCT_MEMBERS,
                    python_names)

# What the generated modules may import: each name with the module it comes from
# (``import builtins`` where they are the same). Each emitter imports the names its
# text uses and no other (``formatting.module_header``).
PROXY_IMPORTABLE = {
    "IntEnum": "enum", "Path": "pathlib", "NewType": "typing",
    **dict.fromkeys(("ArgumentError", "FuncPtr", "Function", "Library", "PointerValue", "Prim",
                     "Ptr", "Signature", "TaintedPtr"), "sandboxlib"),
    **dict.fromkeys(("ArrayOf", "Helpers", "LibraryProxy", "Struct", "c_function"),
                    "sandboxlib.proxy")}
STUB_IMPORTABLE = {
    "builtins": "builtins", "IntEnum": "enum",
    **dict.fromkeys(("Any", "NewType", "NoReturn"), "typing"),
    **dict.fromkeys(("Grants", "Library", "Limits", "PointerValue", "Signature", "Tainted",
                     "TaintedPtr"), "sandboxlib"),
    **dict.fromkeys(("CallbackArg", "ConstData", "Helpers", "HostData", "HostPointer",
                     "LibraryProxy", "PointerArg", "Struct"), "sandboxlib.proxy")}
# The names every generated module binds besides C names and imports: the proxy's
# future import and what both modules define.
OWN_NAMES = frozenset({"annotations", "_HERE", "FUNCTIONS", "LIBRARY", "sandbox"})
# Names the stubs' annotations use inside a class besides the module's classes and
# pointer types (a builtin that a member shadows is written ``builtins.NAME``): a
# method or field must not take one the stubs import.
ANNOTATION_NAMES = frozenset({"builtins", "Any", "NoReturn", "Tainted", "TaintedPtr",
                              "PointerArg", "ConstData", "CallbackArg", "HostPointer",
                              "HostData"})

# What the proxy class decorates its methods with: no method may take its name (the
# decorators after it would find the method).
METHOD_DECORATOR = "c_function"

# Where a function type sits in a lowered type, from its root: a parameter's index,
# "result", "element" (of a fixed array); () is the root itself.
Where = tuple[int | str, ...]
# The named callback Signatures a type is written with, by where they sit: one sits
# wherever the C declaration used the typedef name it was planned under.
Named = dict[Where, str]


@dataclass
class StructPlan:
    tag: str
    pyname: str
    union: bool
    fields: list[tuple[str, FieldType]]  # (Python name, lowered type)
    doc: str
    named: dict[str, Named] = field(default_factory=dict)  # by field (Python name)
    # the compiler's layout by data model where C's rules differ (Struct._layouts_)
    layouts: dict[str, tuple[int, int, tuple[int, ...]]] = field(default_factory=dict)


@dataclass
class EnumPlan:
    tag: str
    pyname: str
    members: list[tuple[str, int]]  # (Python name: the constant's, value)
    doc: str


@dataclass
class FunctionPlan:
    name: str  # the C name, which the module exports
    pyname: str  # the method's name
    sig: Signature
    doc: str
    params: list[str]  # Python parameter names
    annotation: Annotation | None = None  # naming the helper's parameters
    pointee: dict[str, Prim | Ptr] = field(default_factory=dict)  # helper's T* of int or ptr
    helper_params: list[str] = field(default_factory=list)
    location: ir.Location | None = None
    enum_params: dict[int, str] = field(default_factory=dict)  # index -> IntEnum class
    named: Named = field(default_factory=dict)  # the named Signatures ``sig`` is written with

    @property
    def has_helper(self) -> bool:
        return self.annotation is not None and self.annotation.has_helper


@dataclass
class PackagePlan:
    """Everything the emitters need, decided once."""

    name: str
    class_name: str = ""
    helpers_name: str = ""
    headers: list[str] = field(default_factory=list)
    constants: list[ir.Constant] = field(default_factory=list)  # under their Python names
    callbacks: dict[str, Signature] = field(default_factory=dict)  # by Python name
    callbacks_named: dict[str, Named] = field(default_factory=dict)  # what each is written with
    structs: list[StructPlan] = field(default_factory=list)  # nested structs first
    enums: list[EnumPlan] = field(default_factory=list)  # an IntEnum per enum functions use
    aliases: dict[str, str] = field(default_factory=dict)  # typedef name -> view class
    pointer_types: dict[str, str] = field(default_factory=dict)  # "struct T" -> its Ptr type
    pointer_aliases: dict[str, str] = field(default_factory=dict)  # typedef T *name -> Ptr type
    functions: list[FunctionPlan] = field(default_factory=list)
    skipped: list[ir.Skipped] = field(default_factory=list)
    renamed: list[ir.Renamed] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)  # declared, not defined: left out
    # sources, headers, include_dirs (package-relative), defines, cflags: filled in by
    # ``generate`` once the sources are copied into the package
    build: dict[str, list[str]] = field(default_factory=dict)

    def python_names(self, entries: list[tuple[str, str, ir.Location | None]],
                     reserved: Collection[str]) -> list[str]:
        """``names.python_names`` of entries (what, C name, location), recording renames."""
        py = python_names([name for _, name, _ in entries], reserved)
        self.renamed += [ir.Renamed(what, p, loc) for (what, name, loc), p in zip(entries, py)
                         if p != name]
        return py

    def struct_classes(self) -> dict[str, str]:
        """The view class name of each planned struct, by tag."""
        return {sp.tag: sp.pyname for sp in self.structs}


def make_plan(api: ir.Api, name: str, headers: list[str], exports: list[str] | None,
              annotations: dict[str, Annotation] | None = None, where: str = "spec",
              imported: Collection[str] | None = None) -> PackagePlan:
    """Decide what to export (``exports``: C function names, None for all) and under
    which Python names. ``headers``: the headers the package is generated from (their
    structs are emitted even if no function uses them); ``where``: the file that named
    the annotations, for error messages; ``imported``: the names the generated modules
    import, which C names are kept apart from (``generate.plan_api`` finds them), None
    for every name they may import."""
    lower = Lowering(api)
    plan = PackagePlan(name, headers=headers, skipped=list(api.skipped))
    exported = _lowered_functions(api, lower, exports, plan.skipped)
    taken = {fn.name for fn, _ in exported}  # C names of the module's namespace
    constants = _constants(api, taken)
    used = _structs_used(api, headers, {fn.name for fn, _ in exported})
    callbacks = _callbacks(api, lower, taken, used, [fn for fn, _ in exported])
    tags = _viewable_structs(api, lower, used, plan.skipped)

    lib_class = "".join(p.capitalize() for p in name.replace("-", "_").split("_")) or "Lib"
    aliases = _typedef_aliases(api, tags, taken | {c.name for c in constants} | set(callbacks))
    pointees = _pointee_structs(exported)
    pointer_aliases = _pointer_aliases(api, pointees, taken | {c.name for c in constants}
                                       | set(callbacks) | set(aliases))
    enums = _enums_used(api, exported)
    imports = set(imported) if imported is not None else {*PROXY_IMPORTABLE, *STUB_IMPORTABLE}
    module = iter(plan.python_names(
        [(f"class {lib_class}", lib_class, None),
         (f"class {lib_class}Helpers", f"{lib_class}Helpers", None),
         *[(f"constant {c.name}", c.name, c.location) for c in constants],
         *[(f"callback type {n}", n, None) for n in callbacks],
         *[(f"struct {tag}", f"struct_{tag}" if tag in taken else tag,  # C's tag namespace
            api.structs[tag].location) for tag in tags],
         *[(f"typedef {alias}", alias, None) for alias in aliases],
         *[(f"pointer type of {target}", f"{target.split()[-1]}_ptr", None)
           for target in pointees],
         *[(f"typedef {alias}", alias, None) for alias in pointer_aliases],
         *[(f"enum {tag}", tag, api.enums[tag].location) for tag in enums]],
        BUILTINS | OWN_NAMES | imports))
    plan.class_name, plan.helpers_name = next(module), next(module)
    plan.constants = [replace(c, name=next(module)) for c in constants]
    plan.callbacks = {next(module): sig for _, sig in callbacks.values()}
    signatures: dict[str, tuple[str, Signature]] = {}  # C name -> (Python name, Signature)
    for (c_name, (ft, sig)), py in zip(callbacks.items(), plan.callbacks):
        plan.callbacks_named[py] = _named(ft, signatures, lower)  # names defined before it
        signatures[c_name] = (py, sig)
    for tag in tags:
        s = api.structs[tag]
        plan.structs.append(StructPlan(tag, next(module), s.union, [],
                                       f"{'union' if s.union else 'struct'} {tag}  "
                                       f"[{_where(s.location)}]"))
    classes_by_tag = plan.struct_classes()
    plan.aliases = {next(module): classes_by_tag[tag] for tag in aliases.values()}
    plan.pointer_types = {target: next(module) for target in pointees}
    plan.pointer_aliases = {next(module): plan.pointer_types[target]
                            for target in pointer_aliases.values()}
    as_python = {c.name: p.name for c, p in zip(constants, plan.constants)}
    for tag in enums:
        e = api.enums[tag]
        plan.enums.append(EnumPlan(tag, next(module), [(as_python[item], value) for item, value
                                                      in e.values.items() if item in as_python],
                                   f"enum {tag}  [{_where(e.location)}]"))
    # the names the stubs' annotations use in a class: no method or field takes one
    annotating = {plan.class_name, plan.helpers_name, *(sp.pyname for sp in plan.structs),
                  *(e.pyname for e in plan.enums), *plan.pointer_types.values(),
                  *(ANNOTATION_NAMES & imports)}
    _plan_functions(plan, exported, annotating, annotations or {}, where)
    enum_classes = {e.tag: e.pyname for e in plan.enums}
    for fp, (fn, _) in zip(plan.functions, exported):
        fp.enum_params = {i: enum_classes[p.type.tag] for i, p in enumerate(fn.type.params)
                          if isinstance(p.type, ir.EnumRef) and p.type.tag in enum_classes}
        fp.named = _named(fn.type, signatures, lower)
    _plan_fields(plan, api, lower, annotating, signatures)
    return plan


def _named(t: ir.DeclType, signatures: dict[str, tuple[str, Signature]], lower: Lowering,
           own: str = "", at: Where = ()) -> Named:
    """Where ``t`` holds a function type that the header wrote as a typedef name planned
    as a callback (``signatures``: C name -> its Python name and Signature), that
    Signature's Python name; ``own``: the name ``t`` itself is planned under (a struct's
    function-pointer field), used if it was written without a typedef name."""
    if isinstance(t, ir.Pointer) and isinstance(t.target, ir.FunctionType):
        t = t.target  # a function pointer sits where its function type does
    if isinstance(t, ir.Array):
        return _named(t.element, signatures, lower, "", (*at, "element"))
    if not isinstance(t, ir.FunctionType):
        return {}
    for c_name in (t.spelling, own):
        if c_name in signatures:
            py, sig = signatures[c_name]
            try:
                if lower.signature(t) == sig:  # the typedef's type: always, but it is checked
                    return {at: py}
            except CannotProxy:
                return {}
    found: Named = {}
    for i, p in enumerate(t.params):
        found |= _named(p.type, signatures, lower, "", (*at, i))
    return found | _named(t.result, signatures, lower, "", (*at, "result"))


def _typedef_aliases(api: ir.Api, tags: Collection[str], taken: Collection[str]) -> dict[str, str]:
    """Typedef names of the viewable structs (``typedef struct rl_state_s rl_state``),
    by name: their view classes are reachable under them too."""
    return {name: t.tag for name, t in api.typedefs.items()
            if isinstance(t, ir.StructRef) and t.tag in tags and name != t.tag
            and name not in taken and not name.startswith("_")}


def _pointer_aliases(api: ir.Api, pointees: Collection[str],
                     taken: Collection[str]) -> dict[str, str]:
    """Typedef names of pointers to structs that have a pointer type (``typedef struct
    {...} *image_ref``), by name: the pointer type is reachable under them too."""
    found: dict[str, str] = {}
    for name, t in api.typedefs.items():
        if isinstance(t, ir.Pointer) and isinstance(t.target, ir.StructRef):
            target = f"{'union' if t.target.union else 'struct'} {t.target.tag}"
            if target in pointees and name not in taken and not name.startswith("_"):
                found[name] = target
    return found


def _enums_used(api: ir.Api, exported: list[tuple[ir.FunctionDecl, Signature]]) -> list[str]:
    """The enums (with values) the functions take or return: each gets an ``IntEnum``
    (a result stays ``Tainted[int]``: the sandbox may return any int)."""
    found: dict[str, None] = {}
    for fn, _ in exported:
        for t in (*(p.type for p in fn.type.params), fn.type.result):
            if isinstance(t, ir.EnumRef) and t.tag in api.enums and api.enums[t.tag].values:
                found[t.tag] = None
    return list(found)


def _pointee_structs(exported: list[tuple[ir.FunctionDecl, Signature]]) -> list[str]:
    """The structs (``struct T``, opaque ones too) the functions take or return
    pointers to, in order: each gets a pointer type of its own in the stubs."""
    found: dict[str, None] = {}
    for _, sig in exported:
        for t in (*sig.params, sig.result):
            if isinstance(t, Ptr) and re.fullmatch(r"(struct|union) [A-Za-z_]\w*", t.target):
                found[t.target] = None
    return list(found)


def _lowered_functions(api: ir.Api, lower: Lowering, exports: list[str] | None,
                       skipped: list[ir.Skipped]) -> list[tuple[ir.FunctionDecl, Signature]]:
    """The exported functions whose signature lowers; the others are skipped."""
    wanted = None if exports is None else set(exports)
    out: list[tuple[ir.FunctionDecl, Signature]] = []
    for fn in api.functions:
        if wanted is not None and fn.name not in wanted:
            continue
        try:
            out.append((fn, lower.signature(fn.type)))
        except CannotProxy as why:
            skipped.append(ir.Skipped(fn.name, str(why), fn.location))
    return out


def _constants(api: ir.Api, taken: set[str]) -> list[ir.Constant]:
    """``#define`` constants, then enum values (not starting with ``_``), each C name
    once and none that a function has; adds their names to ``taken``."""
    out: list[ir.Constant] = []
    for const in api.constants:
        if const.name not in taken:
            out.append(const)
            taken.add(const.name)
    for enum in api.enums.values():
        for item, value in enum.values.items():
            if item not in taken and not item.startswith("_"):
                out.append(ir.Constant(item, value, enum.location))
                taken.add(item)
    return out


def _callbacks(api: ir.Api, lower: Lowering, taken: set[str], structs: list[str],
               functions: list[ir.FunctionDecl]) -> dict[str, tuple[ir.FunctionType, Signature]]:
    """The function types the headers name, whose signature lowers, by C name, with
    their signature: typedefs of a function type (``typedef int f(int);``) or of a
    function pointer, then the function-pointer fields of ``structs`` as ``TAG_FIELD``,
    then the parameters of ``functions`` written as a function pointer without a
    typedef name as ``FUNCTION_PARAMETER`` (md4c's ``md_html(..., void
    (*process_output)(...), ...)``: ``md_html_process_output``); adds their names to
    ``taken``."""
    named: list[tuple[str, ir.DeclType]] = list(api.typedefs.items())
    named += [(f"{tag}_{f.name}", f.type) for tag in structs
              for f in api.structs[tag].fields or []]
    named += [(f"{fn.name}_{p.name}", p.type) for fn in functions for p in fn.type.params
              if isinstance(p.type, ir.Pointer) and isinstance(p.type.target, ir.FunctionType)
              and not p.type.target.spelling]
    out: dict[str, tuple[ir.FunctionType, Signature]] = {}
    for tname, t in named:
        ft = t.target if isinstance(t, ir.Pointer) else t
        if isinstance(ft, ir.FunctionType) and tname not in taken:
            try:
                out[tname] = (ft, lower.signature(ft))
                taken.add(tname)
            except CannotProxy:
                pass
    return out


def _viewable_structs(api: ir.Api, lower: Lowering, used: list[str],
                      skipped: list[ir.Skipped]) -> list[str]:
    """Tags of the structs (of ``used``) that get a view class; a defined struct that
    cannot is skipped (an opaque one is silently left out: pointers to it are opaque
    anyway)."""
    tags: list[str] = []
    for tag in used:
        s = api.structs[tag]
        problem = lower.struct_problem(tag)
        if problem and s.fields is not None:
            skipped.append(ir.Skipped(f"struct {tag}", f"no view class: {problem}", s.location))
        elif not problem:
            tags.append(tag)
    return tags


def _structs_used(api: ir.Api, headers: list[str], exported: set[str]) -> list[str]:
    """Struct tags to consider: defined in the given headers, or reachable from an
    exported function, in dependency order (nested structs first)."""
    own = {str(Path(h).resolve()) for h in headers}
    order: list[str] = []
    entered: set[str] = set()  # a struct that points to itself is visited once

    def visit(t: ir.DeclType) -> None:
        if isinstance(t, (ir.Pointer, ir.Array)):
            visit(t.target if isinstance(t, ir.Pointer) else t.element)
        elif isinstance(t, ir.FunctionType):
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


def _plan_functions(plan: PackagePlan, exported: list[tuple[ir.FunctionDecl, Signature]],
                    taken: set[str], annotations: dict[str, Annotation], where: str) -> None:
    """Name the methods (apart from the base classes' members and ``taken``) and their
    parameters; check and restate the annotations."""
    methods = plan.python_names([(f"function {fn.name}", fn.name, fn.location)
                                 for fn, _ in exported],
                                LIBRARY_PROXY_MEMBERS | HELPERS_MEMBERS | {"helpers"} | taken
                                | {METHOD_DECORATOR})
    by_c_name = {fn.name: py for (fn, _), py in zip(exported, methods)}
    for (fn, sig), pyname in zip(exported, methods):
        params = plan.python_names([(f"parameter {p} of {fn.name}", p, fn.location)
                                    for p in sig.param_names], {"self"})
        fp = FunctionPlan(fn.name, pyname, sig, f"{prototype(fn)}  [{_where(fn.location)}]",
                          params, annotations.get(fn.name), location=fn.location)
        if fp.annotation is not None:
            check_annotation(fn.name, fp.annotation, sig, _pointees(fn), set(by_c_name), where)
            _name_helper(plan, fp, fn, by_c_name)
        plan.functions.append(fp)


def _name_helper(plan: PackagePlan, fp: FunctionPlan, fn: ir.FunctionDecl,
                 methods: dict[str, str]) -> None:
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
                            keep=[h[p] for p in ann.keep],
                            free=methods.get(ann.free or "", ann.free))


def _plan_fields(plan: PackagePlan, api: ir.Api, lower: Lowering, taken: set[str],
                 signatures: dict[str, tuple[str, Signature]]) -> None:
    """Name each struct's fields (one namespace per struct, apart from ``Struct``'s
    members and ``taken``), lower their types and find the named Signatures they are
    written with (a function-pointer field without a typedef name: its own,
    ``TAG_FIELD``)."""
    for sp in plan.structs:
        s = api.structs[sp.tag]
        fields = s.fields or []
        pynames = plan.python_names([(f"field {f.name} of struct {sp.tag}", f.name, s.location)
                                     for f in fields], STRUCT_MEMBERS | taken)
        sp.fields = [(py, lower.field(f.type)) for f, py in zip(fields, pynames)]
        sp.named = {py: named for f, py in zip(fields, pynames)
                    if (named := _named(f.type, signatures, lower, f"{sp.tag}_{f.name}"))}


def _pointees(fn: ir.FunctionDecl) -> dict[str, Prim | Ptr]:
    """The parameters of ``fn`` that point to an integer type or to a pointer, with
    that type (a pointer as ``Ptr()``)."""
    found: dict[str, Prim | Ptr] = {}
    for p in fn.type.params:
        if isinstance(p.type, ir.Pointer) and isinstance(p.type.target, ir.Pointer):
            found[p.name] = Ptr()
        elif (isinstance(p.type, ir.Pointer) and isinstance(p.type.target, ir.Scalar)
              and p.type.target.prim.is_integer):
            found[p.name] = p.type.target.prim
    return found


def drop_undefined(plan: PackagePlan, defined: Collection[str]) -> None:
    """Leave out the planned functions the module does not export (declared by the
    headers, not defined by the sources): each is skipped with its reason and listed in
    ``plan.undefined``. A helper that frees with one of them is an error."""
    gone = [fp for fp in plan.functions if fp.name not in defined]
    if not gone:
        return
    names = {fp.name for fp in gone}
    plan.functions = [fp for fp in plan.functions if fp.name not in names]
    plan.undefined += [fp.name for fp in gone]
    plan.skipped += [ir.Skipped(fp.name, "declared but not defined by the sources",
                                fp.location) for fp in gone]
    plan.renamed = [r for r in plan.renamed if not any(
        r.what == f"function {n}" or r.what.endswith(f" of {n}")
        or r.what.endswith(f" of helpers.{n}") for n in names)]
    pynames = {fp.pyname: fp.name for fp in gone}
    for fp in plan.functions:
        free = fp.annotation.free if fp.annotation else None
        if free in pynames:
            raise BuildError(f"the helper of {fp.name} frees with {pynames[free]}, which the "
                             "sources do not define")


def _where(loc: ir.Location | None) -> str:
    return f"{Path(loc.file).name}:{loc.line}" if loc else "?"


def warn_skipped(plan: PackagePlan, stacklevel: int = 1) -> None:
    """A ``GeneratorWarning`` per renamed name and per skipped declaration, and one for
    the declared functions the sources do not define, attributed to the caller (1) or
    one of its callers (2 for the caller's caller...)."""
    texts = [*(f"renamed {r}" for r in plan.renamed), *(f"skipped {s}" for s in plan.skipped)]
    if plan.undefined:
        texts.append(f"{len(plan.undefined)} declared function(s) not defined by the sources, "
                     f"left out: {', '.join(plan.undefined)}")
    for text in texts:
        warnings.warn(text, GeneratorWarning, stacklevel=stacklevel + 1)
