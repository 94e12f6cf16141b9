"""A build step in a child process, bounded in time: what compiles a module ahead of
time (wasm2c and the C compiler that builds its extension) must end even when the
module is made to be slow to compile (a function of thousands of locals takes clang
time that grows with its square, where wasmtime's compiler takes a second)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
from collections.abc import Sequence

from ..errors import BuildError

BUILD_TIMEOUT_ENV = "SANDBOXLIB_BUILD_TIMEOUT"
BUILD_TIMEOUT = 900.0  # seconds a build step may take by default (a drop-in: a few minutes)


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


def run_bounded(cmd: Sequence[str], what: str, *, input: str | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` (text in and out, captured) in a process group of its own; past
    ``build_timeout()`` seconds, or on any exception here (Ctrl-C), the whole group is
    killed (the compilers it started too): then BuildError naming ``what``."""
    limit = build_timeout()
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env,
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(input, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise BuildError(f"{what} took longer than {limit:g} s and was stopped (a module "
                             "made to be slow to compile ahead of time?); the wasmtime backend "
                             f"compiles it, or set ${BUILD_TIMEOUT_ENV} to allow more") from None
        except BaseException:
            _kill_group(proc)
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc``'s process group and reap ``proc``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # (already gone)
        pass
    proc.communicate()
