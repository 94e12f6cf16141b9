"""wasmtime's compiled code on disk: keyed by the settings wasmtime does not check when
it loads it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import wasmtime

from sandboxlib.backends.wasmtime import engine as wasmtime_engine
from sandboxlib.backends.wasmtime.engine import EngineKind, compiled_module
from sandboxlib.once import Memo
from sandboxlib.toolchain.cache import CACHE_ENV


def opt_level(cwasm: Path) -> str:
    """The Cranelift opt level compiled code says it was compiled at."""
    found = re.search(rb"opt_level\x00.([a-z_]+)", cwasm.read_bytes(), re.S)
    assert found is not None
    return found.group(1).decode()


def recorded_opt_levels(cache: Path) -> list[str]:
    return sorted(opt_level(entry / "module.cwasm") for entry in (cache / "wasmtime").iterdir())


def test_code_compiled_under_other_cranelift_settings_is_compiled_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    wasm = tmp_path / "one.wasm"
    wasm.write_bytes(wasmtime.wat2wasm('(module (func (export "one") (result i32) i32.const 1))'))
    kind = EngineKind(fuel=False, epoch=False)
    compiled_module(kind, wasm)
    assert recorded_opt_levels(tmp_path / "cache") == ["speed"]
    # wasmtime itself would load the first entry into the engine below without a word
    monkeypatch.setattr(wasmtime_engine, "CRANELIFT", (("opt_level", "speed_and_size"),))
    monkeypatch.setattr(wasmtime_engine, "_engines", Memo())
    module = compiled_module(kind, wasm)
    assert recorded_opt_levels(tmp_path / "cache") == ["speed", "speed_and_size"]
    store = wasmtime.Store(wasmtime_engine.engine(kind))
    one = wasmtime.Instance(store, module, []).exports(store)["one"]
    assert isinstance(one, wasmtime.Func) and one(store) == 1
