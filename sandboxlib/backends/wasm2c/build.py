"""A library's module as a CPython extension: wasm2c's C, the wasm-rt runtime
and the shim compiled together with cffi (cached by content), by the clang that
``ziglang`` ships: measured against the host's gcc 12 (-O2, both), zlib 1 MiB compress
runs 10% faster (1.28x -> 1.14x CPython's zlib), lz4 1 MiB 4-6% (compress 1.37x ->
1.30x, decompress 1.44x -> 1.36x python-lz4), zlib decompress the same; and the backend
needs no C compiler on the machine."""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import shutil
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

from ...abi import FREE, INITIALIZE, MALLOC, Function
from ...errors import CapabilityError, SandboxError
from ..._slab import api as slab_api
from ...toolchain.cext import build_extension, load_extension
from ...toolchain.cpu import BASELINE, X86_64_V3, machine_level
from ..base import LibraryModule, check_export
from . import wasi
from ._csrc import CFLAGS, CSRC, DEFINES, SEGUE_CFLAGS, SEGUE_DEFINES, TRAPS, fingerprint
from .datasegments import Segment, split_data
from .shim import WASM_RT_TRAPS, Shim, Wrapped, fields, generate
from .split import LARGE_CFLAGS
from .translate import Translation, read_header, translate, wabt
from ...toolchain.wasmbinary import function_names, function_types, wasm_type

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
    segments: tuple[Segment, ...]  # the active data, copied in at instantiation
    names: dict[int, str]  # the name section's function names, by index (for traps)
    entries: dict[Function, int] = field(default_factory=dict)  # see entry_address
    segment_array: Any = field(init=False)  # the segments as sbx_instantiate takes them
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
        self.segment_array = self.ffi.new("sbx_segment[]", [
            (s.offset, len(s.data), self.ffi.from_buffer(s.data)) for s in self.segments])

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
    """Translate, check and compile ``library``'s module ``wasm`` for this machine's
    processor level (each step cached), or load the extension shipped beside it
    (``ship_extension``) if one was built from the same module with the same settings,
    for that level or else for the baseline. ``meter``: 1 fuel spent on every call and loop
    iteration, 2 those only compare the call's clock with its deadline (no fuel: a time
    limit, interrupt() and Ctrl-C stop the call there), 0 no checks (calls cannot be
    stopped)."""
    cpu = machine_level()
    shipped = _load_shipped(library, wasm, meter, (cpu, BASELINE))
    if shipped is not None:
        return shipped
    return _finish(library, wasm.read_bytes(), *_compile(library, wasm, meter, cpu))


def _prepare(library: LibraryModule, tr: Translation, wasm: bytes) -> tuple[tuple[str, ...], Shim]:
    """The imports the host serves, and the shim for the functions ``library`` declares."""
    imports = _check_imports(tr)
    wanted = {(fn.name, fields(fn)): fn for fn in (*library.functions, MALLOC, FREE, INITIALIZE)
              if fn.name in tr.exports and tr.exports[fn.name].wasm_type == wasm_type(fn.sig)}
    return imports, generate(tr, list(wanted.values()), function_types(wasm))


def _options(cpu: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The defines and compiler flags of a build for the processor level ``cpu``."""
    if cpu == X86_64_V3:
        return (*DEFINES, *SEGUE_DEFINES), (*CFLAGS, *SEGUE_CFLAGS)
    return DEFINES, CFLAGS


def _compile(library: LibraryModule, wasm: Path, meter: int,
             cpu: str) -> tuple[ModuleType, Translation, tuple[str, ...], Shim]:
    tr = translate(wasm)
    imports, shim = _prepare(library, tr, wasm.read_bytes())
    defines, cflags = _options(cpu)
    runtime = wabt().runtime_dir()
    module = build_extension(
        "wasm2c", library.name, shim.cdef, shim.prelude,
        [tr.source, runtime / "wasm-rt-impl.c"],
        [tr.directory, runtime, wabt().include_dir(), SLAB_HEADER_DIR, CSRC],
        [*defines, f"SBX_METERED={meter}"], cflags, extra_key=[fingerprint()], zig=True,
        cpu=cpu, tuned=[] if tr.large_source is None else [(tr.large_source, LARGE_CFLAGS)])
    return module, tr, imports, shim


def _finish(library: LibraryModule, wasm: bytes, module: ModuleType, tr: Translation,
            imports: tuple[str, ...], shim: Shim) -> LoadedModule:
    if not module.lib.sbx_use_slab(slab_api()):
        raise SandboxError(f"{library.name}: the wasm2c extension was built for another "
                           "version of sandboxlib's memory allocator")
    traps = {**TRAPS, **{name: int(getattr(module.lib, name)) for name in WASM_RT_TRAPS}}
    return LoadedModule(module.ffi, module.lib, shim, tr, imports, traps,
                        ("_initialize", fields(INITIALIZE)) in shim.wrapped, split_data(wasm)[1],
                        function_names(wasm))


# -- extensions shipped beside a module (a wheel's drop-ins) ----------------------------

PRECOMPILED = "_wasm2c"  # the folder beside a module.wasm that holds its shipped extensions
INDEX = "index.json"  # in it: shipped_extension_key -> the extension's file and module name


def shipped_extension_key(wasm_sha256: str, meter: int, shim: Shim, cpu: str) -> str:
    """What an extension shipped for a module must have been built from to be loaded:
    the module, the meter, the shim (the functions the library declares), the backend's
    C (csrc/), defines and flags, the processor level, this Python's extension ABI and
    cffi's major version. Read without compiler or wabt (the header wasm2c wrote is
    shipped)."""
    h = hashlib.sha256(b"wasm2c-shipped-1")
    defines, cflags = _options(cpu)
    for part in (wasm_sha256, str(meter), shim.cdef, shim.prelude, fingerprint(), *defines,
                 f"-mcpu={cpu}",
                 *cflags, *LARGE_CFLAGS, importlib.machinery.EXTENSION_SUFFIXES[0],
                 "cffi " + version("cffi").split(".")[0]):
        h.update(b"\0" + part.encode())
    return h.hexdigest()[:32]


def _load_shipped(library: LibraryModule, wasm: Path, meter: int,
                  levels: tuple[str, ...]) -> LoadedModule | None:
    """The extension shipped for ``wasm`` and ``meter`` (see ``ship_extension``) at the
    first of the processor ``levels`` one was shipped for, or None."""
    folder = wasm.parent / PRECOMPILED
    index = folder / INDEX
    if not index.is_file():
        return None
    data = wasm.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    header_dir = folder / digest[:32]
    if not (header_dir / "module.h").is_file():
        return None
    tr = read_header(header_dir)
    imports, shim = _prepare(library, tr, data)
    entries = json.loads(index.read_text())
    for cpu in levels:
        entry = entries.get(shipped_extension_key(digest, meter, shim, cpu))
        if isinstance(entry, dict) and (folder / entry.get("file", "")).is_file():
            module = load_extension(folder / entry["file"], entry["module"])
            return _finish(library, data, module, tr, imports, shim)
    return None


def ship_extension(library: LibraryModule, wasm: Path, meter: int, cpu: str) -> Path:
    """Build (through the cache) the extension ``load`` would build for ``wasm``,
    ``meter`` and processor level ``cpu``, and place it beside ``wasm`` (in
    ``PRECOMPILED``, with wasm2c's header and its key in the index), where ``load``
    finds it with no compiler; returns its path."""
    module, tr, _, shim = _compile(library, wasm, meter, cpu)
    folder = wasm.parent / PRECOMPILED
    digest = hashlib.sha256(wasm.read_bytes()).hexdigest()
    (folder / digest[:32]).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tr.directory / "module.h", folder / digest[:32] / "module.h")
    built = Path(str(module.__file__))
    shutil.copyfile(built, folder / built.name)
    index = folder / INDEX
    entries = json.loads(index.read_text()) if index.is_file() else {}
    entries[shipped_extension_key(digest, meter, shim, cpu)] = {
        "file": built.name, "module": module.__name__, "meter": meter, "cpu": cpu}
    index.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")
    return folder / built.name
