"""wasmtime's fast engine traps out-of-bounds accesses through its own fault handler;
next to the process's other handlers a sandbox's fault stays that sandbox's trap, and
every other fault or signal still reaches the handler installed before, in whichever
order they were installed. Each case runs in a child process, which some end by a real
segmentation fault."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

PRELUDE = """
import ctypes, faulthandler, os, signal
from libs import hostile_library
from sandboxlib import TrapError
lib = hostile_library()

def trap(backend="wasmtime"):
    with lib.sandbox(backend) as sb:
        try:
            sb.hostile_read_far(0xFFFFFFF0)
        except TrapError as exc:
            print(f"{backend} trapped: {exc.kind}", flush=True)
"""


def run(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PRELUDE + body], capture_output=True,
                          text=True, cwd=Path(__file__).parent, timeout=120)


def test_faulthandler_enabled_after_wasmtime_passes_its_traps_on() -> None:
    """faulthandler reports the fault and raises it again for the handler before it: the
    raised signal is dropped, the fault happens again and reaches wasmtime's handler,
    and the process goes on (it used to end with the second trap)."""
    proc = run("trap()\nfaulthandler.enable()\ntrap()\ntrap('wasm2c')\nprint('alive')\n"
               "ctypes.string_at(8)\n")
    assert proc.stdout.count("wasmtime trapped: out-of-bounds") == 2, proc.stderr
    assert "wasm2c trapped" in proc.stdout and "alive" in proc.stdout, proc.stderr
    assert proc.returncode == -signal.SIGSEGV  # a host fault still ends the process
    assert "Fatal Python error: Segmentation fault" in proc.stderr


def test_a_host_fault_reaches_faulthandler_enabled_first() -> None:
    proc = run("faulthandler.enable()\ntrap()\nctypes.string_at(8)\n")
    assert "wasmtime trapped: out-of-bounds" in proc.stdout, proc.stderr
    assert proc.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in proc.stderr


def test_without_faulthandler_a_host_fault_is_the_default_crash() -> None:
    proc = run("trap()\nctypes.string_at(8)\n")
    assert "wasmtime trapped" in proc.stdout and proc.returncode == -signal.SIGSEGV, proc.stderr


def test_a_signal_sent_by_kill_reaches_the_handler_installed_first() -> None:
    """Only a signal a thread raises itself (a handler passing a fault on) is dropped: a
    SIGSEGV sent by kill() goes down the chain to Python's handler."""
    proc = run("signal.signal(signal.SIGSEGV, lambda *a: print('handled', flush=True))\n"
               "trap()\nos.kill(os.getpid(), signal.SIGSEGV)\nprint('alive')\n")
    assert "wasmtime trapped" in proc.stdout, proc.stderr
    assert "handled\nalive" in proc.stdout and proc.returncode == 0, proc.stderr
