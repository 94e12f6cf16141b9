"""zlib's generated package (from ``zlib.toml``), loaded on first use;
``_package.pyi`` is the stub the generator wrote for it."""

from sandboxlib.wrapped._skeleton import GeneratedPackage

__getattr__ = GeneratedPackage(globals(), "zlib.toml")
