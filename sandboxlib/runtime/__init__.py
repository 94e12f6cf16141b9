"""The backend-neutral runtime: sandboxes, memory, marshalling, limits and grants."""

from .config import Grants, Limits, Preopen
from .memory import Memory
from .sandbox import Allocation, CallbackHandle, Sandbox

__all__ = ["Allocation", "CallbackHandle", "Grants", "Limits", "Memory", "Preopen", "Sandbox"]
