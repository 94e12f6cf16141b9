"""Engines, compiled modules (serialized once, deserialized after) and InstancePre.

One engine per configuration (with or without fuel, interruptible or not). An
interruptible engine (the default) checks its epoch at every loop and call, so that a
call can be stopped: at its time limit, by ``interrupt()`` or by Ctrl-C (the
adapter's epoch callback decides); the process's clock (``sandboxlib._boundary``)
moves every engine's epoch each tick once a sandbox with a time limit started it,
and on a watched signal.

Memories are slots of ``sandboxlib._slab`` sized for the sandbox's limit, which cost no
mapping each; compiled code checks bounds against the memory's current size (a compare
and a branch: Cranelift masks the checked address against speculation only where traps
are signals-based) and every other trap condition too: no trap depends on a signal
handler (see ``_config``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import wasmtime

from ..._boundary import add_waker
from ...errors import BuildError, CapabilityError
from ...once import Memo
from ...progress import progress
from ...toolchain.cache import build_entry, discard
from ...toolchain.guard import refuse_if_no_compile
from ...toolchain.moduleshape import refuse_in_wasmtime
from ...toolchain.wasi_linker import wasi_linker
from . import _capi
from .adapter import CREATOR


@dataclass(frozen=True)
class EngineKind:
    fuel: bool  # a CPU budget in instructions
    epoch: bool = True  # interruptible: checks at every loop and call

    def tag(self) -> str:
        return "-".join(["checked", *(name for name in ("fuel", "epoch") if getattr(self, name))])


# Cranelift's settings, applied to every engine and part of the compiled code's cache
# key: wasmtime checks its own settings when it loads compiled code (fuel, epochs,
# signals-based traps, memory layout) but not Cranelift's, so code compiled under other
# flags (another opt level, Spectre masking off) would otherwise be run as it is.
CRANELIFT: tuple[tuple[str, str], ...] = (("opt_level", "speed"),)

_engines: Memo[EngineKind, wasmtime.Engine] = Memo()


def engine(kind: EngineKind) -> wasmtime.Engine:
    """The process's one engine for ``kind`` (modules of one engine cannot be
    instantiated in another)."""
    return _engines.get(kind, lambda: _new_engine(kind))


def _new_engine(kind: EngineKind) -> wasmtime.Engine:
    config = _config(kind)
    config.memory_reservation = 0
    config.memory_guard_size = 0
    config.memory_reservation_for_growth = 0
    config.memory_init_cow = False  # wasmtime maps images only into its own memories
    _capi.set_memory_creator(config, CREATOR)
    made = wasmtime.Engine(config)
    add_waker(int(_capi.ffi.cast("uintptr_t", _capi.lib.wasmtime_engine_increment_epoch)),
              int(_capi.ffi.cast("uintptr_t", _capi.address_of(made.ptr()))), made)
    return made


def _config(kind: EngineKind) -> wasmtime.Config:
    config = wasmtime.Config()
    refuse_in_wasmtime(config)
    # checks at every loop back-edge and call: 8-15% of bulk work (zlib 1 MiB), the
    # price of stopping any call (Ctrl-C, interrupt()); Limits(interruptible=False)
    # leaves them out
    config.epoch_interruption = kind.epoch
    config.consume_fuel = kind.fuel
    for name, value in CRANELIFT:
        config.cranelift_flag_set(name, value)
    # Every trap is found by a check in the compiled code, none by a signal: wasmtime's
    # signal-based traps rely on its handlers staying installed and first in line, which
    # the host process decides (faulthandler enabled before the first engine, then
    # disabled, restored the default action under them and a sandbox's out-of-bounds
    # access ended the process; a Python-level SIGSEGV handler installed later made it
    # spin forever). The checks cost 10-30% of bulk work (zlib, lz4, JPEG 1 MiB).
    _capi.set_signals_based_traps(config, False)
    # views of a memory (Memory.whole) hold its address: grow in place or fail
    config.memory_may_move = False
    return config


def compiled_module(kind: EngineKind, wasm: Path) -> wasmtime.Module:
    """The module compiled for ``kind``; machine code is cached on disk."""
    refuse_if_no_compile(f"compiling {wasm.name} with wasmtime")
    eng = engine(kind)
    data = wasm.read_bytes()
    key = hashlib.sha256(b"\0".join([data, version("wasmtime").encode(), kind.tag().encode(),
                                     repr(CRANELIFT).encode()])).hexdigest()[:32]
    made: list[wasmtime.Module] = []

    def build(tmp: Path) -> None:
        try:
            with progress(f"compiling {wasm.name} with wasmtime"):
                made.append(wasmtime.Module(eng, data))
        except wasmtime.WasmtimeError as exc:
            raise BuildError(f"{wasm}: not a valid wasm module", str(exc)) from None
        (tmp / "module.cwasm").write_bytes(made[0].serialize())

    while True:
        entry = build_entry("wasmtime", key, "module.cwasm", build)
        if made:
            return made[0]
        try:
            return wasmtime.Module.deserialize_file(eng, str(entry / "module.cwasm"))
        except wasmtime.WasmtimeError:
            discard(entry)  # damaged, or another build of wasmtime's: compiled again


def instance_pre(kind: EngineKind, module: wasmtime.Module, clock: bool,
                 random: bool) -> wasmtime.InstancePre:
    """A linker with WASI (minus what is not granted) pre-resolved against ``module``."""
    linker = wasi_linker(engine(kind), clock=clock, random=random)
    try:
        return linker.instantiate_pre(module)
    except wasmtime.WasmtimeError as exc:
        imports = ", ".join(f"{i.module}.{i.name}" for i in module.imports)
        raise CapabilityError(f"the module needs an import this host does not provide: {exc} "
                              f"(module imports: {imports})") from None
