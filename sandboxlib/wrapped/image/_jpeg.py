"""The JPEG decoder's generated package (from ``jpeg.toml``), loaded on first use;
``_jpeg.pyi`` is the stub the generator wrote for it."""

from sandboxlib.wrapped._skeleton import GeneratedPackage

__getattr__ = GeneratedPackage(globals(), "jpeg.toml")
