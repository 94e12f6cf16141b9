"""stb_image's generated package (from ``stb_image.toml``), loaded on first use;
``_package.pyi`` is the stub the generator wrote for it."""

from sandboxlib.wrapped._skeleton import GeneratedPackage

__getattr__ = GeneratedPackage(globals(), "stb_image.toml")
