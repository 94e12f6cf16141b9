"""The narrow interface every backend implements; everything else is shared.

Values crossing this interface are plain Python numbers with C semantics: an
``unsigned int`` is 0..2**32-1, a pointer is an unsigned address (a sandbox offset,
or a host address on the native backend). Range checks happen before the backend
sees a value; the backend only lowers it to its machine representation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from ..abi import DataModel, Function, Signature
from .config import Grants, Limits
from .memory import RawMemory

if TYPE_CHECKING:
    from ..library import Library

Number = int | float
RawFunction = Callable[..., Number | None]
HostFunction = Callable[..., Number | None]


class Instance(Protocol):
    """One live instance of a library on a backend."""

    @property
    def memory(self) -> RawMemory:
        """The instance's memory region."""
        ...

    def function(self, fn: Function) -> RawFunction:
        """A callable for export ``fn``; traps raise TrapError/ResourceError."""
        ...

    def add_callback(self, sig: Signature, target: HostFunction) -> int:
        """Make ``target`` callable from sandboxed code; returns its function pointer."""
        ...

    def remove_callback(self, address: int) -> None:
        """Make the function pointer unusable (a later call through it traps)."""
        ...

    def close(self) -> None:
        ...


class Backend(Protocol):
    """A way to run a library: compiled once per library, instantiated per sandbox."""

    name: str
    isolated: bool
    model: DataModel

    def instantiate(self, library: Library, limits: Limits, grants: Grants) -> Instance:
        ...
