"""sandboxlib: untrusted C libraries in-process, isolated by WebAssembly.

A library is compiled to wasm32; calls go through checked, typed proxies and every
value coming back is ``Tainted`` until the host verifies it.

The names below are imported on first use: ``import sandboxlib`` (and the command,
which handles Ctrl-C from its first instruction) loads nothing heavy.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing's: the package imports nothing it does not need

__version__ = "0.1.0"

_FROM = {  # public name -> the module it lives in
    **dict.fromkeys(("HOST", "WASM32", "CType", "DataModel", "Function", "FuncPtr",
                     "PointerValue", "Prim", "Ptr", "Signature"), ".abi"),
    **dict.fromkeys(("ArgumentError", "BoundsError", "BuildError", "CapabilityError",
                     "ClosedError", "GeneratorWarning", "Interrupted", "LimitExceeded",
                     "PoisonedError", "ResourceError", "SandboxError", "SandboxlibWarning",
                     "TaintError", "TrapError", "UnknownBackendError"), ".errors"),
    **dict.fromkeys(("Handle", "HandleTable"), ".runtime.handles"),
    "Library": ".library",
    **dict.fromkeys(("Allocation", "CallbackHandle", "Grants", "Limits", "Memory", "Preopen",
                     "Sandbox"), ".runtime"),
    "Cell": ".runtime.structs",
    "SandboxPool": ".runtime.pool",
    "set_strict": ".runtime.strict",
    **dict.fromkeys(("Tainted", "TaintedPtr"), ".taint"),
}

__all__ = [
    "HOST", "WASM32", "Allocation", "ArgumentError", "BoundsError", "BuildError", "CType",
    "CallbackHandle", "CapabilityError", "Cell", "ClosedError", "DataModel", "FuncPtr",
    "Function", "GeneratorWarning", "Grants", "Handle", "HandleTable", "Interrupted",
    "Library", "LimitExceeded", "Limits", "Memory", "PointerValue", "PoisonedError", "Preopen",
    "Prim", "Ptr", "ResourceError", "Sandbox", "SandboxError", "SandboxPool",
    "SandboxlibWarning", "Signature", "TaintError", "Tainted", "TaintedPtr", "TrapError",
    "UnknownBackendError", "__version__", "set_strict",
]


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module 'sandboxlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from typing import Any

    from .abi import (HOST, WASM32, CType, DataModel, Function, FuncPtr, PointerValue, Prim,
                      Ptr, Signature)
    from .errors import (ArgumentError, BoundsError, BuildError, CapabilityError, ClosedError,
                         GeneratorWarning, Interrupted, LimitExceeded, PoisonedError,
                         ResourceError, SandboxError, SandboxlibWarning, TaintError, TrapError,
                         UnknownBackendError)
    from .library import Library
    from .runtime import (Allocation, CallbackHandle, Grants, Limits, Memory, Preopen,
                          Sandbox)
    from .runtime.handles import Handle, HandleTable
    from .runtime.pool import SandboxPool
    from .runtime.strict import set_strict
    from .runtime.structs import Cell
    from .taint import Tainted, TaintedPtr
