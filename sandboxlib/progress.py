"""Progress for long operations: a start line, a tick every few seconds, a done line,
as INFO records of the ``sandboxlib`` logger (shown only where the application, or the
command line, configures logging; the package adds a ``NullHandler``).

Quiet (no progress records at all) is one setting for the process: ``set_quiet()`` (what
the CLI's ``--quiet`` calls) or ``$SANDBOXLIB_QUIET`` set to anything but ``""``/``0``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

TICK_SECONDS = 5.0
QUIET_ENV = "SANDBOXLIB_QUIET"
LOGGER = logging.getLogger("sandboxlib")
LOGGER.addHandler(logging.NullHandler())  # no "No handlers" fallback output: the app decides
_quiet = False


def set_quiet(on: bool = True) -> None:
    """Turn progress records off (or back on) in this process."""
    global _quiet
    _quiet = on


def is_quiet() -> bool:
    """True when progress records are off (``set_quiet`` or ``$SANDBOXLIB_QUIET``)."""
    return _quiet or os.environ.get(QUIET_ENV, "") not in ("", "0")


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The command line's handler: ``sandboxlib: MESSAGE`` on the current ``sys.stderr``."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("sandboxlib: %(message)s"))

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


@contextmanager
def progress(what: str, quiet_below: float = 1.0) -> Iterator[None]:
    """Log ``what`` if it takes longer than ``quiet_below`` seconds (nothing when quiet
    or when the logger drops INFO; no done record if it fails or is interrupted)."""
    if is_quiet() or not LOGGER.isEnabledFor(logging.INFO):
        yield
        return
    start = time.monotonic()
    done = threading.Event()
    announced = threading.Event()

    def ticker() -> None:
        if done.wait(quiet_below):
            return
        LOGGER.info("%s ...", what)
        announced.set()
        while not done.wait(TICK_SECONDS):
            LOGGER.info("  ... %.0f s", time.monotonic() - start)

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
            LOGGER.info("%s: done in %.1f s", what, time.monotonic() - start)
