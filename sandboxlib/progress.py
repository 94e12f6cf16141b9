"""Progress for long operations: a start line, a tick every few seconds, a done line.

Quiet (no progress lines at all) is one setting for the process: ``set_quiet()`` (what
the CLI's ``--quiet`` calls) or ``$SANDBOXLIB_QUIET`` set to anything but ``""``/``0``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

TICK_SECONDS = 5.0
QUIET_ENV = "SANDBOXLIB_QUIET"
_quiet = False


def set_quiet(on: bool = True) -> None:
    """Turn progress lines off (or back on) in this process."""
    global _quiet
    _quiet = on


def is_quiet() -> bool:
    """True when progress lines are off (``set_quiet`` or ``$SANDBOXLIB_QUIET``)."""
    return _quiet or os.environ.get(QUIET_ENV, "") not in ("", "0")


@contextmanager
def progress(what: str, quiet_below: float = 1.0) -> Iterator[None]:
    """Report ``what`` on stderr if it takes longer than ``quiet_below`` seconds
    (nothing when quiet; no done line if it fails or is interrupted)."""
    if is_quiet():
        yield
        return
    start = time.monotonic()
    done = threading.Event()
    announced = threading.Event()

    def ticker() -> None:
        if done.wait(quiet_below):
            return
        print(f"sandboxlib: {what} ...", file=sys.stderr, flush=True)
        announced.set()
        while not done.wait(TICK_SECONDS):
            print(f"sandboxlib:   ... {time.monotonic() - start:.0f} s", file=sys.stderr,
                  flush=True)

    thread = threading.Thread(target=ticker, daemon=True)
    thread.start()
    finished = False
    try:
        yield
        finished = True
    finally:
        done.set()
        thread.join()
        if finished and announced.is_set():
            print(f"sandboxlib: {what}: done in {time.monotonic() - start:.1f} s",
                  file=sys.stderr, flush=True)
