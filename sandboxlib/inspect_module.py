"""What a wasm module asks of its host (imports) and offers (exports), and whether
its shape is one sandboxlib runs (``toolchain.moduleshape``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import wasmtime

from .errors import BuildError, SandboxError
from .toolchain.moduleshape import check_module
from .toolchain.wasi_calls import CALLS, MODULE, UNSERVED


@dataclass(frozen=True)
class ModuleReport:
    imports: list[tuple[str, str, str]]  # module, name, what grants it
    exports: list[tuple[str, str]]  # name, type
    refused: str | None  # why sandboxlib refuses to run it, or None


def inspect_module(path: Path) -> ModuleReport:
    try:
        check_module(path.read_bytes(), path.name)
        refused = None
    except SandboxError as exc:
        refused = str(exc).split(": module refused: ", 1)[-1]
    except OSError as exc:
        raise BuildError(f"{path}: cannot read the wasm module", str(exc)) from None
    try:
        module = wasmtime.Module.from_file(wasmtime.Engine(), str(path))
    except (wasmtime.WasmtimeError, OSError) as exc:
        raise BuildError(f"{path}: cannot read the wasm module", str(exc)) from None
    imports = []
    for imp in module.imports:
        if imp.module == MODULE and (imp.name or "") in CALLS:
            grant = CALLS[imp.name or ""].granted_by
        elif imp.module == MODULE and (imp.name or "") in UNSERVED:
            grant = "not served: answers ENOSYS on every backend"
        else:
            grant = "not provided by sandboxlib: the module is refused"
        imports.append((imp.module, imp.name or "", grant))
    exports = [(e.name, describe(e.type)) for e in module.exports]
    return ModuleReport(imports, exports, refused)


def describe(ty: object) -> str:
    """A short text for an extern type: ``func(i32, i32) -> i32``, ``memory 2 pages``."""
    if isinstance(ty, wasmtime.FuncType):
        results = ", ".join(str(r) for r in ty.results) or "()"
        return f"func({', '.join(str(p) for p in ty.params)}) -> {results}"
    if isinstance(ty, wasmtime.MemoryType):
        return f"memory, {ty.limits.min} page(s) at start"
    if isinstance(ty, wasmtime.TableType):
        return f"table of {ty.element}, {ty.limits.min} at start"
    if isinstance(ty, wasmtime.GlobalType):
        return f"global {ty.content}"
    return type(ty).__name__
