"""Pip-installed compilers (zig for wasm32, the host compiler via cffi) and their cache."""

from .cache import cache_root
from .fetch import debian_mirror, fetch_debian_source, fetch_pin
from .pins import PINS, SourcePin
from .zig import build_wasm, compiler_version

__all__ = ["PINS", "SourcePin", "build_wasm", "cache_root", "compiler_version",
           "debian_mirror", "fetch_debian_source", "fetch_pin"]
