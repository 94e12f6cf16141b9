"""The backend-neutral runtime: sandboxes, memory, marshalling, limits and grants."""

from ..config import Grants, Limits, Preopen
from ..backends.memory import Memory
from ..abi import PointerValue
from .objects import Allocation, CallbackHandle
from .sandbox import Sandbox

__all__ = ["Allocation", "CallbackHandle", "Grants", "Limits", "Memory", "PointerValue",
           "Preopen", "Sandbox"]
