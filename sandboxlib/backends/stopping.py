"""Stopping a running call on the isolating backends: Ctrl-C (SIGINT) and
``Sandbox.interrupt()``.

Compiled code checks at every call and loop iteration whether the running call must stop
(``sandboxlib/_clock.h``: wasmtime's epochs compare the clock with the call's deadline,
wasm2c's code tests a stop word that the clock, a signal and ``interrupt()`` set).
``interrupt()`` stops the call it sees running; a SIGINT makes the main thread's running
call stop, through a C handler in front of Python's (``watch_signals``), and Python's own
handler then runs as the call ends (``raise_signalled``): Ctrl-C raises
``KeyboardInterrupt`` from the call.
"""

from __future__ import annotations

import importlib
import os
import threading
from signal import SIGINT
from typing import Any, Callable, NoReturn

from .._boundary import check_signals
from .._boundary import watch_signals as _watch
from ..config import Limits
from ..errors import Interrupted, SandboxError

# signal.getsignal costs 2 us (an Enum conversion that fails), the C function 15 ns
_getsignal: Callable[[int], Any] = importlib.import_module("_signal").getsignal
_seen: list[Any] = []  # Python's SIGINT handler when ours was put in front of it


def watch_signals() -> None:
    """Make SIGINT stop the main thread's running sandboxed call. At every new
    sandbox: ``signal.signal(SIGINT, ...)`` (asyncio.run does) puts Python's C handler
    back in front of ours, and this puts ours in front again, seeing the change as a
    new Python-level handler (a system call at every sandbox would cost ~1 us)."""
    handler = _getsignal(SIGINT)
    if not _seen or handler is not _seen[0]:
        _watch(threading.main_thread().ident or 0)  # its pthread_self()
        _seen[:] = [handler]


os.register_at_fork(after_in_child=_seen.clear)  # its main thread may be another



def raise_signalled() -> NoReturn:
    """Raise what stopping a call for a signal means: what Python's handler of the
    signal raises (``KeyboardInterrupt`` for SIGINT's default), else ``Interrupted``."""
    check_signals()
    raise Interrupted("the call was stopped by a signal (SIGINT) whose handler raised nothing")


def refuse_uninterruptible(limits: Limits) -> None:
    """``interrupt()`` of a sandbox compiled without the checks that stop a call."""
    if not limits.interruptible:
        raise SandboxError("this sandbox's calls cannot be interrupted: it was made with "
                           "Limits(interruptible=False)")
