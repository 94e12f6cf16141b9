"""Per-call time limits: one daemon thread interrupts the calls past their deadline.

A timed call is armed just before it enters the sandbox and disarmed when it
returns; every tick the thread interrupts the armed calls whose deadline passed
(the metered build then traps at the call's next function call or loop
iteration). Arming and firing share a lock, so a call is only ever interrupted
while it is armed. A forked child starts its own thread (the parent's does not
run there) with its own lock.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

TICK_SECONDS = 0.01


class Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, Callable[[], None]]] = {}
        self._thread: threading.Thread | None = None
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: only the forking thread runs there, and no call is armed."""
        self._lock = threading.Lock()
        self._armed = {}
        self._thread = None

    def arm(self, key: int, seconds: float, interrupt: Callable[[], None]) -> bool:
        """Time the call now starting on instance ``key``; False if a call of that
        instance is already timed (a nested call runs under the outer deadline)."""
        with self._lock:
            if key in self._armed:
                return False
            self._armed[key] = (time.monotonic() + seconds, interrupt)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandboxlib-wasm2c-watchdog",
                                                daemon=True)
                self._thread.start()
        return True

    def disarm(self, key: int) -> None:
        with self._lock:
            self._armed.pop(key, None)  # absent if forked while armed

    def _run(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            now = time.monotonic()
            with self._lock:
                for deadline, interrupt in self._armed.values():
                    if now >= deadline:
                        interrupt()


WATCHDOG = Watchdog()
