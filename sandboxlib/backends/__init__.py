"""Backends by name: ``wasmtime`` (JIT), ``wasm2c`` (ahead-of-time), ``native`` (no isolation)."""

from __future__ import annotations

from ..errors import SandboxError
from .base import Backend

BACKENDS = ("wasmtime", "wasm2c", "native")
_instances: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (one object per process)."""
    if name not in _instances:
        if name == "wasmtime":
            from .wasmtime import WasmtimeBackend
            _instances[name] = WasmtimeBackend()
        elif name == "wasm2c":
            from .wasm2c import Wasm2cBackend
            _instances[name] = Wasm2cBackend()
        elif name == "native":
            from .native import NativeBackend
            _instances[name] = NativeBackend()
        else:
            raise SandboxError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return _instances[name]
