"""Engines, compiled modules (serialized once, deserialized after) and InstancePre.

One engine per configuration (with or without fuel); both enable epoch
interruption for per-call deadlines, ticked by one background thread.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import wasmtime

from ...errors import BuildError, CapabilityError
from ...progress import progress
from ...toolchain.cache import entry_dir
from ...toolchain.wasi_linker import wasi_linker

EPOCH_TICK_SECONDS = 0.01


@dataclass(frozen=True)
class EngineKind:
    fuel: bool

    def tag(self) -> str:
        return f"epoch-fixed{'-fuel' if self.fuel else ''}"


_engines: dict[EngineKind, wasmtime.Engine] = {}
_ticker_lock = threading.Lock()
_ticker_started = False


def engine(kind: EngineKind) -> wasmtime.Engine:
    if kind not in _engines:
        config = wasmtime.Config()
        config.epoch_interruption = True
        config.consume_fuel = kind.fuel
        config.cranelift_opt_level = "speed"
        # views of a memory (Memory.whole) hold its address: grow in place or fail
        config.memory_may_move = False
        _engines[kind] = wasmtime.Engine(config)
    return _engines[kind]


def ensure_epoch_ticker() -> None:
    """Start (once) the thread that advances every engine's epoch."""
    global _ticker_started
    with _ticker_lock:
        if _ticker_started:
            return
        _ticker_started = True

    def tick() -> None:
        while True:
            time.sleep(EPOCH_TICK_SECONDS)
            for eng in list(_engines.values()):
                eng.increment_epoch()

    threading.Thread(target=tick, name="sandboxlib-epoch", daemon=True).start()


def compiled_module(kind: EngineKind, wasm: Path) -> wasmtime.Module:
    """The module compiled for ``kind``; machine code is cached on disk."""
    eng = engine(kind)
    data = wasm.read_bytes()
    key = hashlib.sha256(b"\0".join([data, version("wasmtime").encode(),
                                     kind.tag().encode()])).hexdigest()[:32]
    cached = entry_dir("wasmtime", key) / "module.cwasm"
    if cached.is_file():
        try:
            return wasmtime.Module.deserialize_file(eng, str(cached))
        except wasmtime.WasmtimeError:
            cached.unlink(missing_ok=True)
    try:
        with progress(f"compiling {wasm.name} with wasmtime"):
            module = wasmtime.Module(eng, data)
    except wasmtime.WasmtimeError as exc:
        raise BuildError(f"{wasm}: not a valid wasm module", str(exc)) from None
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{threading.get_ident()}.tmp")
    tmp.write_bytes(module.serialize())
    tmp.replace(cached)
    return module


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
