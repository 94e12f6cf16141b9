"""sandboxlib: untrusted C libraries in-process, isolated by WebAssembly.

A library is compiled to wasm32; calls go through checked, typed proxies and every
value coming back is ``Tainted`` until the host verifies it.
"""

from .abi import HOST, WASM32, CType, DataModel, Function, FuncPtr, Prim, Ptr, Signature
from .errors import (ArgumentError, BoundsError, BuildError, CapabilityError, PoisonedError,
                     ResourceError, SandboxError, TaintError, TrapError)
from .runtime.handles import Handle, HandleTable
from .library import Library
from .runtime import (Allocation, CallbackHandle, Grants, Limits, Memory, PointerValue, Preopen,
                      Sandbox)
from .runtime.structs import Cell
from .taint import Tainted, TaintedPtr

__version__ = "0.1.0"

__all__ = [
    "HOST", "WASM32", "Allocation", "ArgumentError", "BoundsError", "BuildError",
    "CType", "CallbackHandle", "CapabilityError", "Cell", "DataModel", "FuncPtr", "Function",
    "Grants", "Handle", "HandleTable", "Library", "Limits", "Memory", "PointerValue",
    "PoisonedError",
    "Preopen", "Prim", "Ptr", "ResourceError", "Sandbox", "SandboxError", "Signature",
    "TaintError", "Tainted", "TaintedPtr", "TrapError", "__version__",
]
