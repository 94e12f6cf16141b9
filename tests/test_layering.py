"""The architecture, checked on the source: every import in ``sandboxlib`` (type-only
and function-level ones included) goes down the layers or stays in its own, and
no module imports itself back through others."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from libs import ROOT

pytestmark = pytest.mark.quick  # no compiler: `make quick` runs every test here

PACKAGE = ROOT / "sandboxlib"

# Lowest first; a module belongs to the layer with the longest prefix of its name.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("vocabulary", ("sandboxlib.errors", "sandboxlib.abi", "sandboxlib.taint",
                    "sandboxlib.config", "sandboxlib.progress",
                    "sandboxlib.once")),
    ("toolchain", ("sandboxlib.toolchain",)),
    # the generator runs without the runtime and the compiled boundary: the names a
    # generated class inherits are data in codegen/names.py
    ("generator", ("sandboxlib.codegen",)),
    ("backend protocols", ("sandboxlib.backends.base", "sandboxlib.backends.memory")),
    ("backends", ("sandboxlib.backends",)),
    ("runtime objects", ("sandboxlib.runtime.scalars", "sandboxlib.runtime.objects",
                         "sandboxlib.runtime.handles", "sandboxlib.runtime.marshal",
                         "sandboxlib.runtime.structs", "sandboxlib.runtime.callers",
                         "sandboxlib.runtime.compiled")),
    ("sandbox", ("sandboxlib.runtime",)),
    ("library, proxy, tools", ("sandboxlib",)),
    ("drop-ins", ("sandboxlib.wrapped",)),
]

# What the root package defines itself (sandboxlib/__init__.py imports nothing for it):
# any layer may import it from there.
ROOT_OWN = frozenset({"__version__"})


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The sandboxlib modules ``name`` imports, wherever the import statement is."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] +
                                ([node.module] if node.module else []))
            for alias in node.names:
                if base == "sandboxlib" and alias.name in ROOT_OWN:
                    continue
                target = f"{base}.{alias.name}"
                target = target if target in known else base
                if target in known and target != name:
                    yield target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(name, path, known)) for name, path in known.items()}


def layer(name: str) -> int:
    matches = [(len(p), i) for i, (_, prefixes) in enumerate(LAYERS) for p in prefixes
               if name == p or name.startswith(p + ".")]
    return max(matches)[1]


def test_imports_go_down_the_layers() -> None:
    wrong = [f"{a} ({LAYERS[layer(a)][0]}) imports {b} ({LAYERS[layer(b)][0]})"
             for a, targets in graph().items() for b in targets if layer(b) > layer(a)]
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_library_never_imports_what_is_built_on_it() -> None:
    """The benchmarks sit on top of sandboxlib, never below it (the drop-ins are its
    top layer)."""
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            assert not any(n.split(".")[0] == "benchmarks" for n in names), path


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The walk finds imports in every form (so the tests above can fail)."""
    known = {"sandboxlib.abi": tmp_path / "abi.py", "sandboxlib.runtime.sandbox": tmp_path / "s.py"}
    known["sandboxlib.abi"].write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                       "    from .runtime.sandbox import Sandbox\n")
    found = set(imports("sandboxlib.abi", known["sandboxlib.abi"], known))
    assert found == {"sandboxlib.runtime.sandbox"}
    assert layer("sandboxlib.runtime.sandbox") > layer("sandboxlib.abi")
