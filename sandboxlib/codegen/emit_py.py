"""The proxy module (``__init__.py``) of a generated package, from its plan.

Constants, callback signatures, one ``Struct`` subclass per struct, the ``FUNCTIONS``
and ``LIBRARY`` declarations, one ``LibraryProxy`` subclass with a method per C
function, the helpers class and ``sandbox()``. Everything taken from the input is a
name chosen by the plan or a literal (``names.literal``, ``names.docstring``).
"""

from __future__ import annotations

from ..abi import CType, Prim, Ptr, Signature
from .formatting import WIDTH, bracketed, module_header, pretty, used_imports
from .helpers import helper_source
from .lower import FieldType, FixedArray, Nested
from .names import docstring, literal
from .plan import PROXY_IMPORTABLE, Named, PackagePlan, Where


def type_expr(t: CType, named: Named | None = None, at: Where = ()) -> str:
    """Python source that rebuilds a runtime type (``named``: the named Signatures to
    write by name, by where they sit; ``at``: where ``t`` sits)."""
    if isinstance(t, Prim):
        return f"Prim.{t.name}"
    if isinstance(t, Ptr):
        return f"Ptr({t.target!r}{', const=True' if t.const else ''})"
    return f"FuncPtr({sig_expr(t.sig, named, at)})"


def sig_expr(sig: Signature, named: Named | None = None, at: Where = ()) -> str:
    """Python source that rebuilds a ``Signature``, or the name of the named one that
    sits there."""
    if named and at in named:
        return named[at]
    params = ", ".join(type_expr(p, named, (*at, i)) for i, p in enumerate(sig.params))
    params += "," if len(sig.params) == 1 else ""
    result = type_expr(sig.result, named, (*at, "result"))
    return f"Signature(({params}), {result}, {tuple(sig.param_names)!r})"


def field_expr(t: FieldType, classes: dict[str, str], named: Named | None = None,
               at: Where = ()) -> str:
    """Python source for a struct field's type (``classes``: view class by tag)."""
    if isinstance(t, Nested):
        return classes[t.tag]
    if isinstance(t, FixedArray):
        return f"ArrayOf({field_expr(t.element, classes, named, (*at, 'element'))}, {t.length})"
    return type_expr(t, named, at)


def emit_proxy(plan: PackagePlan) -> str:
    """The source of the package's ``__init__.py``."""
    body = _body(plan)
    out = module_header(plan.name, "sandboxed proxy", plan.headers,
                        used_imports(plan.name, body, PROXY_IMPORTABLE),
                        "from __future__ import annotations") + body
    return "\n".join(line.rstrip() for line in out)


def proxy_imports(plan: PackagePlan) -> dict[str, str]:
    """What the package's ``__init__.py`` imports besides ``annotations``: each name
    with its module."""
    return used_imports(plan.name, _body(plan), PROXY_IMPORTABLE)


def _body(plan: PackagePlan) -> list[str]:
    """The lines of the ``__init__.py`` after its imports."""
    out = ["_HERE = Path(__file__).resolve().parent", ""]
    out += _constants(plan) + _enums(plan) + _callbacks(plan) + _structs(plan) + _types(plan)
    out += _library(plan) + _proxy_class(plan) + _helpers_class(plan)
    out += ["", "", "def sandbox(backend=None, *, limits=None, grants=None):  # type: ignore",
            f'    """A fresh {plan.name} sandbox.',
            "",
            '    backend: "wasmtime", "wasm2c" or "native" (default: $SANDBOXLIB_BACKEND, else',
            '    wasmtime); limits: sandboxlib.Limits; grants: sandboxlib.Grants (default: none).',
            '    """',
            f"    return {plan.class_name}(LIBRARY.sandbox(backend, limits=limits, grants=grants))",
            ""]
    return out


def _constants(plan: PackagePlan) -> list[str]:
    if not plan.constants:
        return []
    return ["# -- constants ---------------------------------------------------------------",
            *(f"{c.name} = {literal(c.value)}" for c in plan.constants), ""]


def _callbacks(plan: PackagePlan) -> list[str]:
    if not plan.callbacks:
        return []
    out = ["# -- callback types (register with lib.callback(fn, TYPE)) --------------------"]
    for name, sig in plan.callbacks.items():
        out += pretty(f"{name} = {sig_expr(sig, plan.callbacks_named.get(name))}", "")
    return out + [""]


def _enums(plan: PackagePlan) -> list[str]:
    """An ``IntEnum`` per enum the functions take (its values are also the module's
    constants); the proxy accepts them where the C enum goes."""
    out: list[str] = []
    for e in plan.enums:
        out += ["", "", f"class {e.pyname}(IntEnum):", docstring(e.doc, "    ", WIDTH), "",
                *(f"    {name} = {value}" for name, value in e.members)]
    return out + [""] if out else []


def _types(plan: PackagePlan) -> list[str]:
    """Struct classes under their typedef names; a pointer type per struct pointed to
    (the stubs tell a ``sqlite3 *`` from a ``sqlite3_stmt *``; at run time each is a
    ``TaintedPtr``)."""
    out = [f"{alias} = {cls}" for alias, cls in plan.aliases.items()]
    out += [f"{name} = NewType({name!r}, TaintedPtr)  # {target} *"
            for target, name in plan.pointer_types.items()]
    out += [f"{alias} = {name}" for alias, name in plan.pointer_aliases.items()]
    return ["", "", "# -- types " + "-" * (WIDTH - 10), *out] if out else []


def _structs(plan: PackagePlan) -> list[str]:
    out: list[str] = []
    classes = plan.struct_classes()
    for sp in plan.structs:
        out += ["", "", f"class {sp.pyname}(Struct):", docstring(sp.doc, "    ", WIDTH), ""]
        if sp.union:
            out.append("    _union_ = True")
        if sp.layouts:  # (size, alignment, the fields' offsets) as the compiler lays it out
            out.append(f"    _layouts_ = {sp.layouts!r}")
        out += bracketed("_fields_ = (", [f"({n!r}, {field_expr(t, classes, sp.named.get(n))})"
                                          for n, t in sp.fields], ")", "    ")
    return out


def _library(plan: PackagePlan) -> list[str]:
    """``FUNCTIONS`` and ``LIBRARY``: what the runtime loads and builds."""
    out = ["", "", "FUNCTIONS = ("]
    for fp in plan.functions:
        out += bracketed("Function(", [repr(fp.name), sig_expr(fp.sig, fp.named)], "),", "    ")
    out += [")", "", "LIBRARY = Library(", f"    {plan.name!r},", "    FUNCTIONS,",
            '    wasm=_HERE / "module.wasm",']
    for key in ("sources", "headers", "include_dirs"):
        paths = [f"_HERE / {p!r}" for p in plan.build.get(key, [])]
        out += bracketed(f"{key}=(", paths, "),", "    ")
    for key in ("defines", "cflags"):
        out.append(f"    {key}={tuple(plan.build.get(key, []))!r},")
    return out + [")"]


def _proxy_class(plan: PackagePlan) -> list[str]:
    out = ["", "", f"class {plan.class_name}(LibraryProxy):",
           f'    """The {plan.name} library in a sandbox: one method per C function; every '
           'result is tainted."""',
           "", "    @property", f"    def helpers(self) -> {plan.helpers_name}:",
           '        """High-level helpers generated from the spec\'s annotations."""',
           f"        return {plan.helpers_name}(self)"]
    for fp in plan.functions:
        args = ", ".join(fp.params)
        attr = "" if fp.pyname == fp.name else f", {fp.pyname!r}"
        # positional-only, as in C (the fast caller that replaces it takes no keywords)
        out += ["", f"    @c_function({fp.name!r})",
                f"    def {fp.pyname}(self{', ' if args else ''}{args}{', /' if args else ''}):"
                    "  # type: ignore",
                docstring(fp.doc, "        ", WIDTH),
                f"        return self._bind({fp.name!r}{attr})({args})"]
    return out


def _helpers_class(plan: PackagePlan) -> list[str]:
    out = ["", "", f"class {plan.helpers_name}(Helpers):",
           '    """Bytes in, values out: helpers from the spec\'s annotations."""']
    helped = [fp for fp in plan.functions if fp.has_helper]
    for fp in helped:
        assert fp.annotation is not None
        out += ["", *helper_source(fp.name, fp.pyname, fp.helper_params, fp.sig.params,
                                   fp.annotation, fp.pointee)]
    return out if helped else out + ["", "    pass"]
