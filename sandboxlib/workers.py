"""Sandboxes in worker processes: a picklable recipe for one, and a pool per worker.

For running tasks on a distributed engine (Dask, or any pool of processes): a task
carries an ``Opener`` -- which library, backend, limits, grants -- and asks
``worker_pool(opener)`` for its process's pool of fresh sandboxes of that kind::

    opener = Opener("sandboxlib.wrapped.zlib:decompressobj", options=(("max_output", 1 << 20),))

    def task(blob: bytes) -> bytes:
        with worker_pool(opener).sandbox() as d:   # a fresh sandbox, used once
            return d.decompress(blob)

The library is named either by import path, ``"module"`` or ``"module:attribute"``
(resolved in the worker: nothing but the name travels), or by a ``Library``
object (pickled as its description; see ``Library``). What the name resolves to
decides how a sandbox is opened: a ``Library`` or a module with a ``sandbox``
function (a generated package) as ``x.sandbox(backend, limits=..., grants=...,
**options)``; any other callable (a wrapped drop-in's constructor, such as
``sandboxlib.wrapped.zlib:decompressobj``) as ``x(backend=backend, **options)``, with
``limits`` and ``grants`` passed only if set. A generated package loaded by a
drop-in is its ``_package`` module (``"sandboxlib.wrapped.zlib._package"``).

Each process keeps one ``SandboxPool`` per opener (equal openers share it, also
across tasks that each unpickled their own copy), created on first use and closed
at exit. The build cache is shared by the processes of a machine, so the workers
compile nothing the first one (or an earlier run) built: its file locks make
processes asking at once build an entry once.
"""

from __future__ import annotations

import atexit
import importlib
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from .config import Grants, Limits
from .library import Library
from .once import Memo
from .runtime.pool import SandboxPool

__all__ = ["Opener", "close_worker_pools", "worker_pool"]


@dataclass(frozen=True, eq=False)
class Opener:
    """A picklable recipe for a fresh sandbox; calling it opens one in this process.

    ``library``: ``"module[:attribute]"`` or a ``Library``. ``options``: further
    keyword arguments for the opener, as ``(name, value)`` pairs (hashable values).
    Openers are equal when they name the same library (a ``Library`` by its
    description) with the same settings.
    """

    library: str | Library
    backend: str | None = None
    limits: Limits | None = None
    grants: Grants | None = None
    options: tuple[tuple[str, Hashable], ...] = ()

    def key(self) -> tuple[Hashable, ...]:
        lib = self.library
        named: Hashable = lib if isinstance(lib, str) else ("Library", lib.description())
        return (named, self.backend, self.limits, self.grants, self.options)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opener) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def resolve(self) -> Any:
        """What ``library`` names, imported in this process."""
        if isinstance(self.library, Library):
            return self.library
        module_name, _, attribute = self.library.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            target = getattr(target, part)
        return target

    def __call__(self) -> Any:
        target = self.resolve()
        kwargs = dict(self.options)
        if isinstance(target, Library) or callable(getattr(target, "sandbox", None)):
            return target.sandbox(self.backend, limits=self.limits, grants=self.grants, **kwargs)
        if not callable(target):
            raise TypeError(f"{self.library!r} names neither a library nor a callable")
        if self.limits is not None:
            kwargs["limits"] = self.limits
        if self.grants is not None:
            kwargs["grants"] = self.grants
        return target(backend=self.backend, **kwargs)


_pools: Memo[tuple[Opener, int], SandboxPool[Any]] = Memo()


def worker_pool(opener: Opener, size: int = 2) -> SandboxPool[Any]:
    """This process's pool of fresh sandboxes from ``opener`` (made on first use,
    ``size`` kept ready); the same pool for every equal opener and size."""
    return _pools.get((opener, size), lambda: SandboxPool(opener, size=size))


@atexit.register
def close_worker_pools() -> None:
    """Close this process's pools (at exit, while the engines can still free them)."""
    pools = _pools.values()
    _pools.clear()
    for pool in pools:
        pool.close()
