"""The GIF decoder's generated package (from ``gif.toml``), loaded on first use;
``_gif.pyi`` is the stub the generator wrote for it."""

from sandboxlib.wrapped._skeleton import GeneratedPackage

__getattr__ = GeneratedPackage(globals(), "gif.toml")
