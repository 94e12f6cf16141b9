"""Progress for long operations: a start line, a tick every few seconds, a done line."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

TICK_SECONDS = 5.0


@contextmanager
def progress(what: str, quiet_below: float = 1.0) -> Iterator[None]:
    """Report ``what`` on stderr if it takes longer than ``quiet_below`` seconds."""
    start = time.monotonic()
    done = threading.Event()
    announced = threading.Event()

    def ticker() -> None:
        if done.wait(quiet_below):
            return
        print(f"sandboxlib: {what} ...", file=sys.stderr, flush=True)
        announced.set()
        while not done.wait(TICK_SECONDS):
            print(f"sandboxlib:   ... {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)

    thread = threading.Thread(target=ticker, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if announced.is_set():
            print(f"sandboxlib: {what}: done in {time.monotonic() - start:.1f} s",
                  file=sys.stderr, flush=True)
