"""The wasm2c backend: wasm translated to C ahead of time, compiled as a CPython extension."""

from .instance import Wasm2cBackend, Wasm2cInstance

__all__ = ["Wasm2cBackend", "Wasm2cInstance"]
