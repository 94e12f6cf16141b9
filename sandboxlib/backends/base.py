"""The narrow interface every backend implements; everything else is shared.

Values crossing this interface are plain Python numbers with C semantics: an
``unsigned int`` is 0..2**32-1, a pointer is an unsigned address (a sandbox offset,
or a host address on the native backend). Range checks happen before the backend
sees a value; the backend only lowers it to its machine representation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar

from ..abi import DataModel, Function, Signature
from ..config import Grants, Limits
from ..errors import ResourceError, SandboxError
from ..toolchain.wasmbinary import FuncType, wasm_type
from .memory import RawMemory

T = TypeVar("T")
Number = int | float
RawFunction = Callable[..., Number | None]


class CallbackTarget(Protocol):
    """What sandboxed code calls back (``sandboxlib._boundary.Callback``): trampolines
    in C pass ``address`` and the raw values to the boundary's dispatcher, those
    written in Python call it with the raw values (an exception it raised waits for
    the call that is running; the raw result is 0 then)."""

    @property
    def address(self) -> int: ...

    def __call__(self, *raw: Number) -> Number | None: ...


# How the compiled boundary makes a raw call (this header's sbx_call_fn): int fn(void
# *ctx, sbx_val *values), non-zero when the call failed (each backend's adapter
# provides one per function).
BOUNDARY_HEADER = Path(__file__).parents[1] / "_boundary.h"


def value_union(header: str) -> str:
    """The value array's type (``sbx_val``) as ``header`` declares it, for a cdef or a
    generated entry; ValueError if it declares none."""
    found = re.search(r"^typedef union \{\n.*?^\} sbx_val;\n", header, re.M | re.S)
    if found is None:
        raise ValueError("_boundary.h declares no sbx_val union")
    return found[0]


# The value array of a uniform entry, from the one place it is written.
RAW_VALUE_C = value_union(BOUNDARY_HEADER.read_text())


class RawEntry(NamedTuple):
    """One function of one instance, as the compiled boundary calls it (made for
    every first call of a sandbox: a tuple). ``keep`` keeps ``fn`` and ``ctx`` valid;
    ``failed(code, 0)`` raises what a failed uniform call means."""

    keep: object
    fn: int
    ctx: int = 0
    failed: Callable[[int, int], None] | None = None


class LibraryModule(Protocol):
    """What a backend needs of a library (``sandboxlib.Library`` is one): its C
    sources for the host, its module for a sandbox, and a place to keep what it
    compiled from them."""

    @property
    def name(self) -> str: ...

    @property
    def functions(self) -> tuple[Function, ...]: ...

    def function(self, name: str) -> Function:
        """The function ``name`` (KeyError if the library has none)."""
        ...

    @property
    def sources(self) -> tuple[Path, ...]: ...

    @property
    def headers(self) -> tuple[Path, ...]: ...

    @property
    def include_dirs(self) -> tuple[Path, ...]: ...

    @property
    def defines(self) -> tuple[str, ...]: ...

    @property
    def cflags(self) -> tuple[str, ...]: ...

    def wasm_module(self, grants: Grants | None = None, limits: Limits | None = None) -> Path:
        """The wasm module a sandbox with ``grants`` and ``limits`` runs."""
        ...

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``'s result, made once per ``key`` for this library."""
        ...


class Instance(Protocol):
    """One live instance of a library on a backend."""

    @property
    def memory(self) -> RawMemory:
        """The instance's memory region."""
        ...

    def entry(self, fn: Function) -> RawEntry:
        """Export ``fn`` as the compiled boundary calls it."""
        ...

    def add_callback(self, sig: Signature, target: CallbackTarget) -> int:
        """Make ``target`` callable from sandboxed code; returns its function pointer."""
        ...

    def remove_callback(self, address: int) -> None:
        """Make the function pointer unusable (a later call through it traps)."""
        ...

    def interrupt(self) -> bool:
        """Stop the running call at its next check, from any thread (it raises
        ``Interrupted``); False if no call runs."""
        ...

    def close(self) -> None:
        ...


class Backend(Protocol):
    """A way to run a library: compiled once per library, instantiated per sandbox."""

    name: str
    isolated: bool
    model: DataModel

    def instantiate(self, library: LibraryModule, limits: Limits, grants: Grants) -> Instance:
        ...


def table_full(limits: Limits) -> ResourceError:
    """The error of a callback registration the function table has no room for."""
    return ResourceError(f"the sandbox's function table cannot grow (limit: "
                         f"{limits.table_elements} elements)")


def check_export(fn: Function, have: FuncType | None) -> None:
    """SandboxError unless the module exports ``fn`` with the wasm type its C
    declaration needs (a module built by an attacker may lie about its types)."""
    if have is None:
        raise SandboxError(f"the module does not export a function {fn.name!r}")
    if have != wasm_type(fn.sig):
        raise SandboxError(f"{fn.name}: the module's export has type {have}, but the C "
                           f"declaration needs {wasm_type(fn.sig)}")
