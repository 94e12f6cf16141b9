"""The processor levels compiled sandboxes are built for, and the one this machine runs.

The wasm2c backend compiles a module's C for a level of the machine's architecture
(clang's ``-mcpu``): ``baseline`` runs on every processor of it; on x86-64 a second build
for ``x86_64_v3`` (AVX2, BMI2, FMA, ...: processors since 2013-2015) lowers wasm SIMD
and bit operations to fewer instructions (a 1024x768 JPEG's decode: 34.1 M -> 30.0 M
instructions) and addresses the sandbox's memory through the GS segment, which needs the
operating system to let user code set its base (``backends/wasm2c/_csrc.py``). A wheel
ships both (``SHIPPED``); a machine loads the one it runs (``machine_level``). Either
gives the same results: the same wasm semantics, compiled without floating-point
contraction (``backends/wasm2c/_csrc.py``)."""

from __future__ import annotations

import os
import platform

from .._cpu import user_gs_base, x86_64_level
from ..errors import SandboxError

CPU_ENV = "SANDBOXLIB_CPU"  # a level to use instead of the machine's best (it must run it)
BASELINE = "baseline"
X86_64_V3 = "x86_64_v3"


def _is_x86_64() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def shipped_levels() -> tuple[str, ...]:
    """The levels a wheel's compiled sandboxes are built for on this architecture."""
    return (BASELINE, X86_64_V3) if _is_x86_64() else (BASELINE,)


def runs(level: str) -> bool:
    """Whether this machine runs code built for ``level``."""
    return level == BASELINE or (level == X86_64_V3 and x86_64_level() >= 3 and user_gs_base())


def machine_level() -> str:
    """The level of compiled sandboxes to load here: ``$SANDBOXLIB_CPU`` if set (a level
    this machine runs, else SandboxError), else the best of ``shipped_levels`` it runs."""
    chosen = os.environ.get(CPU_ENV)
    if chosen:
        if chosen not in shipped_levels():
            raise SandboxError(f"${CPU_ENV}={chosen!r}: not a level sandboxes are built for "
                               f"here (one of {', '.join(shipped_levels())})")
        if not runs(chosen):
            raise SandboxError(f"${CPU_ENV}={chosen!r}: this processor does not run it")
        return chosen
    return [level for level in shipped_levels() if runs(level)][-1]
