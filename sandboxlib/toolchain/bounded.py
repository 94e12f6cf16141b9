"""A build step in a child process, bounded in time and memory: what compiles a module
ahead of time (wasm2c and the C compiler that builds its extension) must end even when
the module is made to be slow to compile (a function of thousands of locals takes clang
time that grows with its square, where wasmtime's compiler takes a second), and must not
take the machine's memory while it runs."""

from __future__ import annotations

import math
import os
import re
import resource
import signal
import subprocess
from collections.abc import Sequence

from ..errors import BuildError

BUILD_TIMEOUT_ENV = "SANDBOXLIB_BUILD_TIMEOUT"
BUILD_TIMEOUT = 900.0  # seconds a build step may take by default (a drop-in: a few minutes)
BUILD_MEMORY_ENV = "SANDBOXLIB_BUILD_MEMORY_MIB"
BUILD_MEMORY = 4096  # MiB each process of a build step may write to by default
# what a process that ran out of memory under the limit says (clang, zig, Python, libc)
_OUT_OF_MEMORY = re.compile(r"out of memory|Cannot allocate memory|bad_alloc|MemoryError|"
                            r"OutOfMemory|Allocation failed", re.IGNORECASE)


def build_timeout() -> float:
    """The seconds a build step may take: ``$SANDBOXLIB_BUILD_TIMEOUT`` or the default."""
    text = os.environ.get(BUILD_TIMEOUT_ENV, "")
    try:
        seconds = float(text) if text else BUILD_TIMEOUT
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise BuildError(f"${BUILD_TIMEOUT_ENV}={text!r}: expected a positive number of seconds")
    return seconds


def build_memory() -> int:
    """The bytes each process of a build step may write to (``resource.RLIMIT_DATA``):
    ``$SANDBOXLIB_BUILD_MEMORY_MIB`` or the default, in MiB."""
    text = os.environ.get(BUILD_MEMORY_ENV, "")
    if not text:
        return BUILD_MEMORY << 20
    if not text.isdigit() or int(text) == 0:
        raise BuildError(f"${BUILD_MEMORY_ENV}={text!r}: expected a positive number of MiB")
    return int(text) << 20


# what a build step's BuildError suggests: a module's for the wasm2c backend, C's otherwise
MODULE_ADVICE = ("a module made to be costly to compile ahead of time? the wasmtime backend "
                 "compiles it")
C_ADVICE = "C made to be costly to compile, such as a macro expanding to millions of tokens?"


def run_bounded(cmd: Sequence[str], what: str, *, input: str | None = None,
                env: dict[str, str] | None = None, memory_bounded: bool = True,
                advice: str = MODULE_ADVICE) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` (text in and out, captured) in a process group of its own, each of its
    processes limited to ``build_memory()`` bytes of data if ``memory_bounded`` (set
    before it starts any: they inherit it); past ``build_timeout()`` seconds, or on any
    exception here (Ctrl-C), the whole group is killed (the compilers it started too):
    then BuildError naming ``what`` and giving ``advice``, as when a process ran out of
    memory under the limit. (A native build is not bounded in memory: it compiles the
    library's own C for the host, and its sanitizer builds reserve terabytes.)"""
    limit, memory = build_timeout(), build_memory()
    if memory_bounded:  # a library the host preloads (a sanitizer's runtime) is not the
        # compiler's, and would reserve more than the limit
        env = {k: v for k, v in (os.environ if env is None else env).items()
               if k != "LD_PRELOAD"}
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env,
                          start_new_session=True) as proc:
        try:
            if memory_bounded:
                resource.prlimit(proc.pid, resource.RLIMIT_DATA, (memory, memory))
            out, err = proc.communicate(input, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise BuildError(f"{what} took longer than {limit:g} s and was stopped "
                             f"({advice}); set ${BUILD_TIMEOUT_ENV} to allow more") from None
        except BaseException:
            _kill_group(proc)
            raise
    if memory_bounded and proc.returncode != 0 and _OUT_OF_MEMORY.search(err):
        raise BuildError(f"{what} ran out of the {memory >> 20} MiB of memory a build step "
                         f"may take ({advice}); set ${BUILD_MEMORY_ENV} to allow more", err + out)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc``'s process group and reap ``proc``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # (already gone)
        pass
    proc.communicate()
