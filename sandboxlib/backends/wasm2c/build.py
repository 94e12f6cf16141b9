"""A library's module as a CPython extension: wasm2c's C, the wasm-rt runtime
and the shim compiled together with cffi (cached by content), by the clang that
``ziglang`` ships: measured against the host's gcc 12 (-O2, both), zlib 1 MiB compress
runs 10% faster (1.28x -> 1.14x CPython's zlib), lz4 1 MiB 4-6% (compress 1.37x ->
1.30x, decompress 1.44x -> 1.36x python-lz4), zlib decompress the same; and the backend
needs no C compiler on the machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...abi import FREE, INITIALIZE, MALLOC, Function
from ...errors import CapabilityError, SandboxError
from ..._slab import api as slab_api
from ...toolchain.cext import build_extension
from ..base import LibraryModule, check_export
from . import wasi
from ._csrc import CFLAGS, CSRC, DEFINES, TRAPS, fingerprint
from .shim import WASM_RT_TRAPS, Shim, Wrapped, fields, generate
from .translate import Translation, translate, wabt
from ...toolchain.wasmbinary import function_types, wasm_type

SLAB_HEADER_DIR = Path(__file__).parents[2]  # _slab.h, the allocator's C interface


@dataclass
class LoadedModule:
    """The compiled extension of one library, and what the instances need of it."""

    ffi: Any
    lib: Any
    shim: Shim
    translation: Translation
    imports: tuple[str, ...]  # WASI function of each import index
    traps: dict[str, int]  # trap constant name -> its value
    has_initialize: bool
    entries: dict[Function, int] = field(default_factory=dict)  # see entry_address
    region_address: int = field(init=False)
    unpin_address: int = field(init=False)

    def wrapper(self, fn: Function) -> Wrapped:
        """The generated wrapper of export ``fn``, or SandboxError naming the mismatch."""
        w = self.shim.wrapped.get((fn.name, fields(fn)))
        if w is not None:
            return w
        have = self.translation.exports.get(fn.name)
        check_export(fn, have.wasm_type if have is not None else None)
        raise SandboxError(f"{fn.name}: this declaration is not among the library's functions, "
                           "for which the wasm2c extension was compiled")

    def __post_init__(self) -> None:
        # for compiled code: the memory's base and size, giving back a pin
        self.region_address, self.unpin_address = (
            int(self.ffi.cast("uintptr_t", self.ffi.addressof(self.lib, name)))
            if hasattr(self.lib, name) else 0 for name in ("sbx_region", "sbx_unpin"))

    def entry_address(self, fn: Function) -> int:
        """Where ``fn``'s uniform entry is (found once per function)."""
        address = self.entries.get(fn)
        if address is None:
            symbol = self.wrapper(fn).entry
            address = self.entries[fn] = int(self.ffi.cast("uintptr_t",
                                                           self.ffi.addressof(self.lib, symbol)))
        return address


def _check_imports(tr: Translation) -> tuple[str, ...]:
    names = []
    for imp in tr.imports:
        want = wasi.served_type(imp.module, imp.name)
        if want is None or imp.decl.wasm_type != want:
            listed = ", ".join(f"{i.module}.{i.name}" for i in tr.imports)
            raise CapabilityError(f"the module needs an import this host does not provide: "
                                  f"{imp.module}.{imp.name} (module imports: {listed})")
        names.append(imp.name)
    return tuple(names)


def load(library: LibraryModule, wasm: Path, meter: int) -> LoadedModule:
    """Translate, check and compile ``library``'s module ``wasm`` (each step cached).
    ``meter``: 0 none, 1 fuel spent on every call and loop iteration, 2 those only
    compare the clock with the call's deadline (a time limit without fuel)."""
    tr = translate(wasm)
    imports = _check_imports(tr)
    wanted = {(fn.name, fields(fn)): fn for fn in (*library.functions, MALLOC, FREE, INITIALIZE)
              if fn.name in tr.exports and tr.exports[fn.name].wasm_type == wasm_type(fn.sig)}
    shim = generate(tr, list(wanted.values()), function_types(wasm.read_bytes()))
    runtime = wabt().runtime_dir()
    module = build_extension(
        "wasm2c", library.name, shim.cdef, shim.prelude,
        [tr.source, runtime / "wasm-rt-impl.c"],
        [tr.directory, runtime, wabt().include_dir(), SLAB_HEADER_DIR, CSRC],
        [*DEFINES, f"SBX_METERED={meter}"], CFLAGS, extra_key=[fingerprint()], zig=True)
    if not module.lib.sbx_use_slab(slab_api()):
        raise SandboxError(f"{library.name}: the wasm2c extension was built for another "
                           "version of sandboxlib's memory allocator")
    traps = {**TRAPS, **{name: int(getattr(module.lib, name)) for name in WASM_RT_TRAPS}}
    return LoadedModule(module.ffi, module.lib, shim, tr, imports, traps,
                        ("_initialize", fields(INITIALIZE)) in shim.wrapped)
