"""The WebP decoder's generated package (from ``webp.toml``), loaded on first use;
``_webp.pyi`` is the stub the generator wrote for it."""

from sandboxlib.wrapped._skeleton import GeneratedPackage

__getattr__ = GeneratedPackage(globals(), "webp.toml")
