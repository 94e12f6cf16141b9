"""From headers and sources to an importable package ``OUT/NAME/`` in one step.

The stages in order: ``preprocess`` (zig, for wasm32), ``parse`` (to the IR),
``plan`` (with ``lower``), then ``emit_py`` and ``emit_pyi``; the module is built by
the toolchain, exporting the functions the sources define (a function the headers
declare but the sources do not define is left out with a warning). The package is
assembled in a temporary directory beside its destination, imported there (code that
does not load is a BuildError naming the file) and moved into place only when
complete, so a failure writes nothing half-done.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import keyword
import os
import re
import shutil
import sys
import tempfile
import traceback
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError
from ..toolchain import build_wasm
from ..toolchain.extras import require
from ..toolchain.wasmbinary import exported_functions
from . import ir
from .annotations import Annotation
from .emit_py import emit_proxy, proxy_imports
from .emit_pyi import emit_stub, stub_imports
from .layouts import apply_array_lengths, apply_compiler_layouts
from .plan import PackagePlan, drop_undefined, make_plan, warn_skipped
from .preprocess import preprocess


@dataclass
class WrapRequest:
    """What to wrap (the CLI's ``wrap`` arguments, or a spec file's)."""

    name: str
    headers: list[Path]
    sources: list[Path]
    include_dirs: list[Path] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    cflags: list[str] = field(default_factory=list)
    exports: list[str] | None = None
    stack_size: int = 128 << 10
    annotations: dict[str, Annotation] = field(default_factory=dict)
    origin: str = "--export"  # where exports/annotations were named, for error messages
    wasm_cflags: list[str] = field(default_factory=list)  # the wasm build's only
    # the wasm build compiles x86 SSE intrinsics (to wasm SIMD); None: if the C includes
    # an x86 intrinsics header (``uses_x86_intrinsics``)
    x86_intrinsics: bool | None = None

    def check(self) -> None:
        check_identifier(self.name)
        for kind, paths in (("header", self.headers), ("source", self.sources)):
            for p in paths:
                if not p.is_file():
                    raise BuildError(f"{kind} file {p} does not exist")
        if not self.headers:
            raise BuildError("at least one --header is needed")
        if not self.sources:
            raise BuildError("at least one --source is needed")


def check_identifier(name: str) -> None:
    """Refuse a library name that cannot be a Python package name."""
    if not name.isidentifier():
        raise BuildError(f"library name {name!r} is not a Python identifier")
    if keyword.iskeyword(name):
        raise BuildError(f"library name {name!r} is a Python keyword")


def shadowed_module(name: str) -> str | None:
    """What a top-level package ``name`` would hide: a standard-library module or an
    installed top-level module (described), else None."""
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return f"the standard-library module {name}"
    dists = importlib.metadata.packages_distributions().get(name)
    if dists:
        return f"the installed module {name} (from {', '.join(sorted(set(dists)))})"
    return None


def check_package_name(name: str, force: bool = False) -> str | None:
    """Refuse ``name`` for a package written to be imported by name: not an identifier,
    a keyword, or hiding another module; with ``force`` the last is allowed and the
    warning to show is returned."""
    check_identifier(name)
    shadowed = shadowed_module(name)
    if shadowed is None:
        return None
    if not force:
        raise BuildError(f"library name {name!r} shadows {shadowed}; choose another name "
                         "or pass --force")
    return f"library name {name!r} shadows {shadowed}"


def plan_for(req: WrapRequest) -> PackagePlan:
    """Preprocess and parse the headers, and decide what the proxy exports."""
    req.check()
    require("pycparser", "parsing C headers")
    from .parse import parse_api
    api = parse_api(preprocess(req.headers, req.include_dirs, req.defines), req.headers)
    apply_array_lengths(api, req.headers, req.include_dirs, req.defines)
    plan = plan_api(req, api)
    apply_compiler_layouts(plan, api, req.headers, req.include_dirs, req.defines)
    return plan


def plan_api(req: WrapRequest, api: ir.Api) -> PackagePlan:
    """The plan for ``api`` (the parsed headers of ``req``): the exports and
    annotations ``req`` names must be declared; annotated ``skip`` functions are left out."""
    declared = {f.name for f in api.functions}
    unknown = [e for e in [*(req.exports or []), *req.annotations] if e not in declared]
    if unknown:
        raise BuildError(f"{req.origin}: function(s) {', '.join(unknown)} are not declared in "
                         f"{', '.join(str(h) for h in req.headers)}")
    skip = {name for name, ann in req.annotations.items() if ann.skip}
    exports = [f.name for f in api.functions if (req.exports is None or f.name in req.exports)
               and f.name not in skip]

    def planned(kept_apart: Collection[str] | None) -> PackagePlan:
        return make_plan(api, req.name, [str(h) for h in req.headers], exports,
                         req.annotations, req.origin, kept_apart)

    # C names are kept apart from the names the modules import. Which those are is read
    # from the modules written with every name they may import kept apart: what the
    # emitters write depends on what the package holds, not on its names.
    return planned(imported_names(planned(None)))


def imported_names(plan: PackagePlan) -> set[str]:
    """The names the package's modules import."""
    return {"annotations", *proxy_imports(plan), *stub_imports(plan)}


def wrap(req: WrapRequest, out: Path) -> tuple[Path, PackagePlan]:
    """Generate, build and write ``out/NAME``; returns its path and the plan. What the
    package leaves out or renames is told as ``GeneratorWarning``s."""
    plan = plan_for(req)
    if not plan.functions:
        raise BuildError(f"no function of {req.name} can be proxied")
    wasm = build_module(req, plan)
    warn_skipped(plan, stacklevel=2)
    out.mkdir(parents=True, exist_ok=True)
    final = out / req.name
    staging = Path(tempfile.mkdtemp(prefix=f".{req.name}-", dir=out))
    try:
        plan.build = copy_sources(req, staging)
        (staging / "__init__.py").write_text(emit_proxy(plan), encoding="utf-8")
        (staging / "__init__.pyi").write_text(emit_stub(plan), encoding="utf-8")
        (staging / "py.typed").write_text("")
        shutil.copyfile(wasm, staging / "module.wasm")
        check_importable(staging, final)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final, plan


def build_module(req: WrapRequest, plan: PackagePlan) -> Path:
    """Compile the module, exporting the planned functions the sources define; the
    others (declared, not defined) are dropped from ``plan`` (``plan.drop_undefined``)."""
    wasm = build_wasm(req.sources, exports=[f.name for f in plan.functions], name=req.name,
                      include_dirs=req.include_dirs, defines=req.defines,
                      cflags=[*req.cflags, *req.wasm_cflags], stack_size=req.stack_size,
                      if_defined=True, x86_intrinsics=x86_intrinsics_for(req))
    drop_undefined(plan, exported_functions(wasm.read_bytes()))
    if not plan.functions:
        raise BuildError(f"{req.name}: the sources define none of the functions the headers "
                         f"declare ({', '.join(plan.undefined)})")
    return wasm


def check_importable(staging: Path, final: Path) -> None:
    """Compile the staged stubs and import the staged package (under a name of its
    own, forgotten afterwards): generated code that does not load is a BuildError
    naming the file (as it will be called), never a package written."""
    stub = staging / "__init__.pyi"
    try:
        compile(stub.read_text(encoding="utf-8"), str(final / stub.name), "exec")
    except SyntaxError as exc:
        raise BuildError(f"the generated {final / stub.name} does not compile: line "
                         f"{exc.lineno}: {exc.msg}") from None
    module_name = f"_sandboxlib_check_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(module_name, staging / "__init__.py",
                                                  submodule_search_locations=[str(staging)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        if isinstance(exc, SyntaxError):
            line, why = exc.lineno, exc.msg
        else:  # the innermost line of the generated module that raised
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if Path(f.filename) == staging / "__init__.py"]
            line, why = (frames[-1].lineno if frames else None), f"{type(exc).__name__}: {exc}"
        lines = (staging / "__init__.py").read_text(encoding="utf-8").splitlines()
        text = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
        raise BuildError(f"the generated {final / '__init__.py'} cannot be imported: line "
                         f"{line or '?'}: {why}", f"    {text}" if text else "") from None
    finally:
        sys.modules.pop(module_name, None)


@dataclass
class Includes:
    """What a library's C reaches through ``#include`` (``follow_includes``)."""

    files: set[Path]                 # its sources and headers and the files they include
    joined: list[tuple[Path, Path]]  # folders a relative include ties into one tree
    names: set[str]                  # every name included, found or not (<emmintrin.h>)


def follow_includes(req: WrapRequest) -> Includes:
    """The files ``req``'s sources and headers include, recursively: a quoted or angled
    include found beside the including file or in an include directory, and the
    headers of each include directory."""
    include_dirs = [d.resolve() for d in req.include_dirs]
    todo = [*(Path(p).resolve() for p in (*req.sources, *req.headers)),
            *(h for d in include_dirs for h in d.glob("*.h") if h.is_file())]
    seen = Includes(set(), [], set())
    while todo:
        path = todo.pop()
        if path in seen.files:
            continue
        seen.files.add(path)
        for quote, quoted, angled in _INCLUDE.findall(path.read_text(errors="replace")):
            name = quoted or angled
            seen.names.add(name)
            places = ([path.parent] if quote else []) + include_dirs
            hits = [d for d in places if (d / name).is_file()]
            todo += [(d / name).resolve() for d in hits]
            if hits and hits[0] == path.parent and ".." in Path(name).parts:
                seen.joined.append((path.parent, (path.parent / name).resolve().parent))
    return seen


# x86 intrinsics headers (<xmmintrin.h> ... <nmmintrin.h>, <immintrin.h>, <x86intrin.h>)
_X86_INTRINSICS = re.compile(r"(?:[a-z]*mmintrin|x86intrin)\.h")


def uses_x86_intrinsics(req: WrapRequest) -> bool:
    """Whether the library's C includes an x86 intrinsics header (guarded or not)."""
    return any(_X86_INTRINSICS.fullmatch(Path(n).name) for n in follow_includes(req).names)


def x86_intrinsics_for(req: WrapRequest) -> bool:
    """Whether the wasm build compiles x86 intrinsics: as asked, or where the C uses them."""
    return req.x86_intrinsics if req.x86_intrinsics is not None else uses_x86_intrinsics(req)


def copy_sources(req: WrapRequest, staging: Path) -> dict[str, list[str]]:
    """Copy the C sources, headers and what they include (``follow_includes``) into
    ``staging/csrc/``, so the native backend builds the package anywhere with the same
    ``#include`` paths. Each tree (an include directory, a source's folder, or the
    folder two of them share when one includes the other by a relative path) becomes
    ``csrc/dN`` with its layout kept; returns the package-relative paths, for
    ``PackagePlan.build``."""
    include_dirs = [d.resolve() for d in req.include_dirs]
    wanted = [Path(p).resolve() for p in (*req.sources, *req.headers)]
    reached = follow_includes(req)
    trees = _trees({*include_dirs, *(p.parent for p in reached.files)}, reached.joined,
                   [*wanted, *include_dirs])

    def placed(path: Path) -> str:
        """``csrc/dN/`` + the path in its tree; a folder name no ``#include`` could
        spell (a quote, a backslash, a line break) becomes ``xN``."""
        tree = next(t for t in trees if path.is_relative_to(t))
        parts = path.relative_to(tree).parts
        folders, name = (parts, ()) if path.is_dir() else (parts[:-1], parts[-1:])
        return "/".join(["csrc", trees[tree],
                         *(f if _INCLUDABLE.fullmatch(f) else aliases.setdefault(
                             f, f"x{len(aliases)}") for f in folders), *name])
    aliases: dict[str, str] = {}
    for path in sorted(reached.files):
        target = staging / placed(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    sources = [placed(p) for p in wanted[:len(req.sources)]]
    return {"sources": sources, "headers": [placed(p) for p in wanted[len(req.sources):]],
            "include_dirs": sorted({placed(d) for d in include_dirs}
                                   | {str(Path(s).parent) for s in sources}),
            "defines": list(req.defines), "cflags": list(req.cflags)}


def _trees(folders: set[Path], joined: list[tuple[Path, Path]],
           order: list[Path]) -> dict[Path, str]:
    """The fewest folders that hold ``folders`` and keep each ``joined`` pair in one,
    named d0, d1, ... in the order of the first path of ``order`` (the request's) each
    holds: the names do not depend on where the files are (a build directory, a cache)."""
    trees = set(folders)
    for a, b in joined:
        trees.add(Path(os.path.commonpath([a, b])))
    kept = [t for t in trees if not any(t != o and t.is_relative_to(o) for o in trees)]

    def rank(tree: Path) -> tuple[int, str]:
        first = next((i for i, p in enumerate(order) if p.is_relative_to(tree)), len(order))
        return first, str(tree)
    return {t: f"d{i}" for i, t in enumerate(sorted(kept, key=rank))}


_INCLUDABLE = re.compile(r'[^"\\\r\n]+')  # no quote, backslash or line break
_INCLUDE = re.compile(r'^\s*#\s*include\s*(?:(")([^"]+)"|<([^>]+)>)', re.M)
