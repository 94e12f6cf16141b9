"""Warm snapshots: a sandbox's memory after the host initialized it (a decompressor
after ``inflateInit``, a parser with its tables built), from which new sandboxes start
as they start from the pre-initialized image, copying only what differs from it.

A snapshot is the memory's size and the 4 KiB chunks that differ from a fresh sandbox
of the same module: data, not code, so one taken on one isolating backend starts
sandboxes on either. What it may hold is what pre-initialization may: a sandbox that
was granted anything, holds callbacks or handles, is poisoned, closed or running a
call, or whose module keeps state in globals the host cannot read (anything but the
stack pointer, which is back at its start between calls) is refused. A new sandbox
runs under its own limits from its first instruction; one whose memory limit the
snapshot does not fit is refused. ``Sandbox.snapshot`` captures, ``Sandbox(...,
snapshot=)`` starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..backends.base import LibraryModule
from ..config import Grants, Limits
from ..errors import SandboxError
from ..toolchain.moduleshape import check_module

CHUNK = 4096
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, eq=False)
class Snapshot(Generic[T_co]):
    """What ``snapshot()`` captured (of a ``Sandbox`` or a proxy); ``sandbox()`` starts
    one in that state, of the same kind."""

    start: Callable[[Snapshot[Any], str | None, Limits | None], T_co] = field(repr=False)
    library: LibraryModule
    backend: str    # where it was taken: the default backend of the sandboxes it starts
    limits: Limits  # likewise their default limits
    module: Path    # the module (pre-initialized image) the sandbox ran
    pages: int      # its memory size, in wasm pages
    chunks: tuple[tuple[int, bytes], ...] = field(repr=False)  # (address, CHUNK bytes)

    def sandbox(self, backend: str | None = None, *, limits: Limits | None = None) -> T_co:
        """A new sandbox in the captured state (by default on the backend, and with the
        limits, of the sandbox it was taken from)."""
        return self.start(self, backend, limits)

    @property
    def size(self) -> int:
        """The bytes a new sandbox copies."""
        return CHUNK * len(self.chunks)


def changed_chunks(now: memoryview, then: memoryview) -> tuple[tuple[int, bytes], ...]:
    """The CHUNK-sized pieces of ``now`` that differ from ``then`` (zero past its end:
    memory grown since is zero)."""
    zero = bytes(CHUNK)
    return tuple((at, bytes(now[at:at + CHUNK])) for at in range(0, len(now), CHUNK)
                 if now[at:at + CHUNK] != (then[at:at + CHUNK] if at < len(then) else zero))


def module_of(library: LibraryModule, grants: Grants, limits: Limits) -> Path:
    """The module a sandbox with ``grants`` and ``limits`` runs, if a snapshot can hold
    its state (SandboxError if the module keeps state in more globals than the stack
    pointer)."""
    path = library.wasm_module(grants, limits)
    shape = library.memo(("shape", path), lambda: check_module(path.read_bytes(),
                                                                library.name))
    if shape.mutable_globals > 1:
        raise SandboxError(f"{library.name}: snapshot: the module keeps state in "
                           f"{shape.mutable_globals} mutable globals; only the stack "
                           "pointer's can be known")
    return path
