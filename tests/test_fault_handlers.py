"""Traps never depend on the process's signal handlers: on both isolating backends a
sandbox's trap is a TrapError whatever handlers the host installs or removes, before or
after its sandboxes exist, and the host's own faults and signals reach its handlers
untouched. Each case runs in a child process, which some end by a real segmentation
fault."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

BACKENDS = ["wasmtime", "wasm2c"]
PRELUDE = """
import ctypes, faulthandler, os, signal, sys
from libs import hostile_library
from sandboxlib import TrapError
lib, backend = hostile_library(), sys.argv[1]
ATTACKS = [("hostile_read_far", (0xFFFFFFF0,)), ("hostile_unreachable", ()),
           ("hostile_divide", (1, 0)), ("hostile_recurse", (0,))]
libc = ctypes.CDLL(None)

def handlers():  # the process-level handlers (sa_handler is first in struct sigaction)
    found = []
    for signum in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE):
        buf = ctypes.create_string_buffer(256)
        assert libc.sigaction(signum, None, buf) == 0
        found.append(bytes(buf[:8]))
    return found

def trap(sb=None):
    for name, args in ATTACKS:
        with lib.sandbox(backend) as fresh:
            try:
                getattr(sb or fresh, name)(*args)
            except TrapError:
                print("trapped", flush=True)
            if sb is not None:
                return
"""


def run(body: str, backend: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PRELUDE + body, backend], capture_output=True,
                          text=True, cwd=Path(__file__).parent, timeout=120)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sandboxes_install_no_signal_handler(backend: str) -> None:
    proc = run("before = handlers()\nboxes = [lib.sandbox(backend) for _ in range(3)]\n"
               "trap()\nassert handlers() == before\nprint('untouched')\n", backend)
    assert proc.stdout.split() == ["trapped"] * 4 + ["untouched"], proc.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_faulthandler_enabled_before_and_disabled_later_leaves_traps_traps(backend: str) -> None:
    """(wasmtime's signal-based traps ended the process here: disabling faulthandler put
    back the default action that was there before wasmtime's handlers.)"""
    proc = run("faulthandler.enable()\nearly = lib.sandbox(backend)\nfaulthandler.disable()\n"
               "trap()\ntrap(early)\nprint('alive')\n", backend)
    assert proc.stdout.split() == ["trapped"] * 5 + ["alive"], proc.stderr
    assert proc.returncode == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_python_sigsegv_handler_installed_later_leaves_traps_traps(backend: str) -> None:
    """(wasmtime's signal-based traps spun forever here: Python's handler returns, and the
    faulting access ran again.)"""
    proc = run("early = lib.sandbox(backend)\n"
               "signal.signal(signal.SIGSEGV, lambda *a: print('handler', flush=True))\n"
               "trap(early)\ntrap()\nprint('alive')\n", backend)
    assert proc.stdout.split() == ["trapped"] * 5 + ["alive"], proc.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_faulthandler_enabled_later_sees_no_trap_and_still_reports_a_host_fault(
        backend: str) -> None:
    proc = run("early = lib.sandbox(backend)\nfaulthandler.enable()\ntrap(early)\ntrap()\n"
               "assert faulthandler.is_enabled()\nprint('alive', flush=True)\n"
               "ctypes.string_at(8)\n", backend)
    assert proc.stdout.split() == ["trapped"] * 5 + ["alive"], proc.stderr
    assert proc.stderr.count("Fatal Python error: Segmentation fault") == 1, proc.stderr
    assert proc.returncode == -signal.SIGSEGV


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_faulthandler_a_host_fault_is_the_default_crash(backend: str) -> None:
    proc = run("trap()\nctypes.string_at(8)\n", backend)
    assert proc.stdout.split() == ["trapped"] * 4, proc.stderr
    assert proc.returncode == -signal.SIGSEGV


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigsegv_sent_or_raised_reaches_the_hosts_handler(backend: str) -> None:
    proc = run("signal.signal(signal.SIGSEGV, lambda *a: print('handled', flush=True))\n"
               "trap()\nos.kill(os.getpid(), signal.SIGSEGV)\n"
               "signal.raise_signal(signal.SIGSEGV)\nprint('alive')\n", backend)
    assert proc.stdout.split() == ["trapped"] * 4 + ["handled", "handled", "alive"], proc.stderr
    assert proc.returncode == 0
