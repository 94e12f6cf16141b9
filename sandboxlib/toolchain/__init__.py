"""Pip-installed compilers (zig for wasm32, the host compiler via cffi) and their cache."""

from .cache import cache_root
from .zig import build_wasm, compiler_version

__all__ = ["build_wasm", "cache_root", "compiler_version"]
