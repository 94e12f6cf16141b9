"""Engines, compiled modules (serialized once, deserialized after) and InstancePre.

One engine per configuration (with or without fuel, with or without a time limit, fast
or dense memory). Engines for time-limited sandboxes enable epoch interruption for
per-call deadlines, ticked by one background thread (started again in a forked child,
where the parent's does not run); the others leave its checks out of the code.

Memory comes two ways. *Fast*: wasmtime's own, a 4 GiB reservation with guard
regions per memory, so compiled code needs no bounds checks; each costs a few of the
process's mappings (Linux allows ~65,000) and 4 GiB of its address space, so only
``FAST_MEMORIES`` live at once, allocated (with their instances and tables) from
wasmtime's pool, reserved when the engine is made: no mapping made or dropped per
sandbox. *Dense*: slots of ``sandboxlib._slab`` sized for the sandbox's limit, which
cost no mapping each; compiled code checks bounds against the memory's current size
(with wasmtime's Spectre masking of the checked address).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import wasmtime

from ..._slab import can_reserve, install_fault_handler, wasmtime_creator
from ...config import DEFAULT_TABLE_LIMIT
from ...errors import BuildError, CapabilityError
from ...once import Memo
from ...progress import progress
from ...toolchain.cache import build_entry, discard
from ...toolchain.wasi_linker import wasi_linker
from . import _capi

EPOCH_TICK_SECONDS = 0.01
# Live sandboxes per fast engine ($SANDBOXLIB_FAST_MEMORIES; 0: every sandbox dense), and
# what each slot of its pool holds: tables of up to the default limit of elements, the
# first 64 KiB of a freed memory kept resident (zeroed) for the next.
FAST_MEMORIES = int(os.environ.get("SANDBOXLIB_FAST_MEMORIES", "1000"))
POOL_TABLE_ELEMENTS = DEFAULT_TABLE_LIMIT
_POOL_KEEP_RESIDENT = 64 << 10
_POOL_SLOT_BYTES = (4 << 30) + (64 << 20) + (POOL_TABLE_ELEMENTS * 8) + (1 << 20)  # generous


@dataclass(frozen=True)
class EngineKind:
    fuel: bool  # a CPU budget in instructions
    epoch: bool = False  # a time limit: interruption checks at every loop and call
    dense: bool = False  # memories in slots (see above)

    def tag(self) -> str:
        return "-".join(["fixed", *(name for name in ("fuel", "epoch", "dense")
                                    if getattr(self, name))])


_engines: Memo[EngineKind, wasmtime.Engine] = Memo()
_ticker_lock = threading.Lock()
_ticker_started = False


def engine(kind: EngineKind) -> wasmtime.Engine:
    """The process's one engine for ``kind`` (modules of one engine cannot be
    instantiated in another)."""
    return _engines.get(kind, lambda: _new_engine(kind))


def _new_engine(kind: EngineKind) -> wasmtime.Engine:
    config = _config(kind)
    if kind.dense:
        config.memory_reservation = 0
        config.memory_guard_size = 0
        config.memory_reservation_for_growth = 0
        config.memory_init_cow = False  # wasmtime maps images only into its own memories
        _capi.set_memory_creator(config, wasmtime_creator(_capi.ERROR_NEW))
    elif FAST_MEMORIES and can_reserve(FAST_MEMORIES * _POOL_SLOT_BYTES):
        # (wasmtime aborts the process if it cannot reserve the pool: checked first)
        _capi.set_pooling(config, FAST_MEMORIES, POOL_TABLE_ELEMENTS, _POOL_KEEP_RESIDENT)
    made = wasmtime.Engine(config)  # (the first installs wasmtime's fault handlers)
    # a layer above them: it drops the signal a later handler such as faulthandler
    # raises again, so that the fault itself reaches wasmtime's handler (see _slab.c)
    install_fault_handler()
    return made


def _config(kind: EngineKind) -> wasmtime.Config:
    config = wasmtime.Config()
    # checks at every loop back-edge and call cost 10-35% of bulk work (zlib, lz4, expat
    # 1 MiB on wasmtime): only sandboxes with a time limit pay for them
    config.epoch_interruption = kind.epoch
    config.consume_fuel = kind.fuel
    config.cranelift_opt_level = "speed"
    # views of a memory (Memory.whole) hold its address: grow in place or fail
    config.memory_may_move = False
    return config


def ensure_epoch_ticker() -> None:
    """Start (once per process) the thread that advances every engine's epoch."""
    global _ticker_started
    if _ticker_started:
        return
    with _ticker_lock:
        if _ticker_started:
            return
        _ticker_started = True

    def tick() -> None:
        while True:
            time.sleep(EPOCH_TICK_SECONDS)
            for eng in _engines.values():
                eng.increment_epoch()

    threading.Thread(target=tick, name="sandboxlib-epoch", daemon=True).start()


def _forget_ticker() -> None:
    """In a forked child: the parent's ticker thread is not there; start anew."""
    global _ticker_lock, _ticker_started
    _ticker_lock, _ticker_started = threading.Lock(), False


os.register_at_fork(after_in_child=_forget_ticker)


def compiled_module(kind: EngineKind, wasm: Path) -> wasmtime.Module:
    """The module compiled for ``kind``; machine code is cached on disk."""
    eng = engine(kind)
    data = wasm.read_bytes()
    key = hashlib.sha256(b"\0".join([data, version("wasmtime").encode(),
                                     kind.tag().encode()])).hexdigest()[:32]
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
