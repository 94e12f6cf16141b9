"""The wasmtime backend: portable .wasm, JIT-compiled, with a cffi fast call path."""

from .instance import WasmtimeBackend, WasmtimeInstance

__all__ = ["WasmtimeBackend", "WasmtimeInstance"]
