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
snapshot does not fit is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from ..config import Grants, Limits
from ..errors import ResourceError, SandboxError
from ..toolchain.moduleshape import check_module
from ..toolchain.wasmbinary import PAGE
from .backend_name import resolve_backend

if TYPE_CHECKING:
    from .sandbox import Sandbox

CHUNK = 4096
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, eq=False)
class Snapshot(Generic[T_co]):
    """What ``Sandbox.snapshot()`` (or a proxy's) captured; ``sandbox()`` starts one."""

    sandbox_of: Callable[[Sandbox], T_co] = field(repr=False)  # a Sandbox, or its proxy
    origin: Sandbox = field(repr=False)  # whose library, backend and limits are defaults
    module: Path                         # the module (image) the sandbox ran
    pages: int                           # its memory size, in wasm pages
    chunks: tuple[tuple[int, bytes], ...] = field(repr=False)  # (address, CHUNK bytes)

    def sandbox(self, backend: str | None = None, *, limits: Limits | None = None) -> T_co:
        """A new sandbox in the captured state (by default on the backend, and with the
        limits, of the sandbox it was taken from)."""
        from .sandbox import Sandbox
        origin = self.origin
        return self.sandbox_of(Sandbox(origin.library, resolve_backend(
            backend or origin.backend.name), limits=limits or origin.limits, snapshot=self))

    @property
    def size(self) -> int:
        """The bytes a new sandbox copies."""
        return CHUNK * len(self.chunks)


def capture(sandbox: Sandbox, sandbox_of: Callable[[Sandbox], T]) -> Snapshot[T]:
    """A snapshot of ``sandbox`` now, or SandboxError saying why it cannot be one."""
    name = f"{sandbox.library.name}: snapshot"
    sandbox._check_usable()
    if not sandbox.isolated:
        raise SandboxError(f"{name}: the native backend's memory is the host's, not a "
                           "sandbox's to copy")
    if sandbox._gate.depth:
        raise SandboxError(f"{name}: the sandbox is running a call")
    if sandbox.grants != Grants():
        raise SandboxError(f"{name}: the sandbox was granted {sandbox.grants}; a snapshot "
                           "would hand what it read to sandboxes without the grant")
    if sandbox._callbacks or (sandbox._handles is not None and len(sandbox._handles)):
        raise SandboxError(f"{name}: the sandbox holds callbacks or handles, which are "
                           "the host's and not copied")
    module = _module(sandbox)
    with _fresh(sandbox) as base:
        now, then = sandbox.memory.whole(), base.memory.whole()
        zero = bytes(CHUNK)  # past the fresh sandbox's memory: grown, so zero
        chunks = tuple((at, bytes(now[at:at + CHUNK])) for at in range(0, len(now), CHUNK)
                       if now[at:at + CHUNK] != (then[at:at + CHUNK] if at < len(then)
                                                 else zero))
    return Snapshot(sandbox_of, sandbox, module, len(now) // PAGE, chunks)


def restore(sandbox: Sandbox, snapshot: Snapshot[object]) -> None:
    """Put a new ``sandbox`` in ``snapshot``'s state."""
    name = f"{sandbox.library.name}: sandbox from a snapshot"
    if sandbox.library is not snapshot.origin.library or not sandbox.isolated:
        raise SandboxError(f"{name}: a snapshot starts sandboxes of its own library on an "
                           "isolating backend")
    same = sandbox.limits == snapshot.origin.limits and sandbox.grants == Grants()
    if not same and _module(sandbox) != snapshot.module:  # (the same: known to be its)
        raise SandboxError(f"{name}: these limits run another module than the snapshot's "
                           f"({snapshot.module.name}); give the limits it was taken with")
    grow = snapshot.pages - sandbox.memory.size // PAGE
    if grow < 0 or (grow and not sandbox._instance.memory.grow(grow)):
        raise ResourceError(f"{name}: its {snapshot.pages} pages of memory do not fit "
                            f"({sandbox.limits})")
    write = sandbox.memory.write
    for at, data in snapshot.chunks:
        write(at, data)


def _module(sandbox: Sandbox) -> Path:
    library = sandbox.library
    path = library.wasm_module(sandbox.grants, sandbox.limits)
    shape = library.memo(("shape", path), lambda: check_module(path.read_bytes(),
                                                                library.name))
    if shape.mutable_globals > 1:
        raise SandboxError(f"{library.name}: snapshot: the module keeps state in "
                           f"{shape.mutable_globals} mutable globals; only the stack "
                           "pointer's can be known")
    return path


def _fresh(sandbox: Sandbox) -> Sandbox:
    from .sandbox import Sandbox
    return Sandbox(sandbox.library, sandbox.backend.name, limits=sandbox.limits)
