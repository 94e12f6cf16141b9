"""Backends by name: ``wasmtime`` (JIT), ``wasm2c`` (ahead-of-time), ``native`` (no isolation)."""

from __future__ import annotations

from ..errors import SandboxError
from ..once import Memo
from .base import Backend

BACKENDS = ("wasmtime", "wasm2c", "native")
_instances: Memo[str, Backend] = Memo()


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (one object per process)."""
    return _instances.get(name, lambda: _new_backend(name))


def _new_backend(name: str) -> Backend:
    if name == "wasmtime":
        from .wasmtime import WasmtimeBackend
        return WasmtimeBackend()
    if name == "wasm2c":
        from .wasm2c import Wasm2cBackend
        return Wasm2cBackend()
    if name == "native":
        from .native import NativeBackend
        return NativeBackend()
    raise SandboxError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
