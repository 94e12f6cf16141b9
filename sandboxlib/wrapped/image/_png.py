"""The PNG decoder's generated package (from ``png.toml``), loaded on first use;
``_png.pyi`` is the stub the generator wrote for it."""

from sandboxlib.wrapped._skeleton import GeneratedPackage

__getattr__ = GeneratedPackage(globals(), "png.toml")
