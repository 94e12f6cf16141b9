"""Per-sandbox limits and capability grants (nothing is granted by default)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from .once import HashOnce

DEFAULT_MEMORY_LIMIT = 256 << 20
DEFAULT_TABLE_LIMIT = 1 << 16


@dataclass(frozen=True)
class Limits(HashOnce):
    """Resource limits of one sandbox.

    ``memory_bytes``: the most linear memory the sandbox may grow to (``memory.grow``
    fails beyond it, so ``malloc`` returns NULL inside; a host-side allocation that
    cannot be served raises ``ResourceError``). ``fuel``: instructions budget for the
    sandbox's life (wasmtime). ``timeout``: wall seconds per call into the sandbox.
    ``max_callback_depth``: how deeply callbacks may nest (a callback calling into
    the sandbox, which calls back...). ``table_elements``: the most elements any
    table of the sandbox may hold (the function table grows by one per registered
    callback, and by what the library's ``table.grow`` asks); each element costs
    8-32 bytes of host memory beside ``memory_bytes``, and growth past the limit
    fails as growth past a declared maximum does. Exceeding any raises
    ``ResourceError``. ``interruptible=False`` compiles the library without the checks
    that let a running call be stopped (Ctrl-C, ``Sandbox.interrupt()``, ``timeout``,
    which it excludes): they cost wasmtime 8-15% of bulk work, wasm2c nothing
    measurable.
    """

    memory_bytes: int = DEFAULT_MEMORY_LIMIT
    fuel: int | None = None
    timeout: float | None = None
    max_callback_depth: int = 64
    table_elements: int = DEFAULT_TABLE_LIMIT
    interruptible: bool = True

    __hash__ = HashOnce.hash_once  # limits key the caches every new sandbox looks up

    def __post_init__(self) -> None:
        if self.memory_bytes <= 0:
            raise ValueError(f"memory_bytes must be positive, got {self.memory_bytes}")
        if self.fuel is not None and self.fuel < 0:
            raise ValueError(f"fuel must be >= 0, got {self.fuel}")
        if self.timeout is not None and not 0 < self.timeout < math.inf:
            raise ValueError(f"timeout must be a positive, finite number of seconds (None: no "
                             f"limit), got {self.timeout}")
        if self.timeout is not None and not self.interruptible:
            raise ValueError("a timeout needs interruptible calls (interruptible=True)")
        if not 1 <= self.table_elements < 1 << 32:
            raise ValueError(f"table_elements must be in [1, 2**32), got {self.table_elements}")
        if self.max_callback_depth < 1:
            raise ValueError(f"max_callback_depth must be >= 1, got {self.max_callback_depth}")


@dataclass(frozen=True)
class Preopen:
    """A host directory visible inside the sandbox at ``guest_path``."""

    host_path: str
    guest_path: str
    writable: bool = False

    def __post_init__(self) -> None:
        if not os.path.isdir(self.host_path):
            raise ValueError(f"preopened directory {self.host_path!r} does not exist")


@dataclass(frozen=True)
class Grants(HashOnce):
    """Capabilities granted to one sandbox; the default grants nothing."""

    stdout: bool = False
    stderr: bool = False
    stdin: bool = False
    dirs: tuple[Preopen, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=())
    clock: bool = False
    random: bool = False

    __hash__ = HashOnce.hash_once  # grants key the caches every new sandbox looks up

    @staticmethod
    def env_from_host(*names: str) -> tuple[tuple[str, str], ...]:
        """The named host environment variables (those that are set), for ``env=``."""
        return tuple((n, os.environ[n]) for n in names if n in os.environ)
