"""lz4's generated package (from ``lz4.toml``), loaded on first use; ``_package.pyi`` is
the stub the generator wrote for it."""

from sandboxlib.wrapped._skeleton import GeneratedPackage

__getattr__ = GeneratedPackage(globals(), "lz4.toml")
