"""The time one image's decoding may take, all its sandboxes and frames together: the
steps that call into its sandboxes count their time against a ``TimeBudget``, and a
watchdog thread stops (``Sandbox.interrupt()``) a sandbox whose image's budget runs
out while one of its calls runs."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from sandboxlib import ResourceError, Sandbox, SandboxError

TICK = 0.01  # how often the watchdog looks, while a budget it watches is being spent
_USED: set[Hashable] = set()  # see TimeBudget.first_use


class TimeBudget:
    """``seconds`` of decoding (None: no bound), spent by ``spending()`` steps."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.left = seconds
        self.since: float | None = None  # when the running step started

    def check(self) -> None:
        """``ResourceError`` if the budget is spent (the step that spent it done)."""
        if self.left is not None and self.left <= 0:
            raise self._exceeded()

    @property
    def over(self) -> bool:
        """Whether the running step has spent what was left."""
        since, left = self.since, self.left
        return since is not None and left is not None and time.monotonic() - since >= left

    @contextmanager
    def spending(self) -> Iterator[None]:
        """A step whose time counts against the budget: refused if it is spent, its
        failure raised as the budget's ``ResourceError`` if it ran out meanwhile (its
        sandboxes' running calls stopped then: ``watch``). A step inside a step is the
        outer one's (refused if the outer one spent the budget)."""
        if self.since is not None:
            if self.over:
                raise self._exceeded()
            yield
            return
        self.check()
        self.since = time.monotonic()
        if self.seconds is not None:
            WATCHDOG.running()
        try:
            yield
        except SandboxError as error:
            if self.over:
                raise self._exceeded() from error
            raise
        finally:
            spent, self.since = time.monotonic() - self.since, None
            if self.left is not None:
                self.left -= spent

    @contextmanager
    def first_use(self, key: Hashable) -> Iterator[None]:
        """The first sandbox of a library on a backend (``key``) in the process, which
        compiles or loads its module: its time is not the image's."""
        if key in _USED:
            yield
            return
        start = time.monotonic()
        try:
            yield
        finally:
            if self.left is not None:
                self.left += time.monotonic() - start
        _USED.add(key)

    def _exceeded(self) -> ResourceError:
        return ResourceError("CPU limit: the image's decoding exceeded its time limit "
                             f"({self.seconds} s, all its frames and sandboxes together)")


class _Watchdog:
    """One thread for the process that interrupts watched sandboxes whose budget's
    running step has spent it (again each tick until the step ends: ``interrupt()``
    stops only a call running then). Started at the first ``watch``; it waits, without
    waking, while no watched budget is being spent."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Nothing watched, no thread (again in a forked child: its parent's thread,
        lock and sandboxes are not its own)."""
        self._lock = threading.Lock()  # held while it interrupts: unwatch waits for it
        self._watched: dict[int, tuple[TimeBudget, Sandbox]] = {}
        self._keys = itertools.count()
        self._wake = threading.Event()
        self._idle = True
        self._thread: threading.Thread | None = None

    def watch(self, budget: TimeBudget, sandbox: Sandbox) -> int:
        """Watch ``sandbox`` for ``budget`` (an isolating backend's: the native one's
        calls cannot be stopped, its budget is checked between steps); the key that
        ``unwatch`` takes, before the sandbox closes."""
        key = next(self._keys)
        if budget.seconds is None or not sandbox.isolated:
            return key
        with self._lock:
            self._watched[key] = (budget, sandbox)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="sandboxlib image time budgets")
                self._thread.start()
        self.running()  # (its budget's step may have started before the sandbox)
        return key

    def unwatch(self, key: int) -> None:
        with self._lock:
            self._watched.pop(key, None)

    def running(self) -> None:
        """A budget's step started (after it set ``since``), or a sandbox is watched:
        wake the thread if it waits."""
        if self._idle:
            self._idle = False
            self._wake.set()

    def _busy(self) -> bool:
        """Interrupt the sandboxes whose budget is spent; whether any is being spent."""
        busy = False
        with self._lock:
            for budget, sandbox in self._watched.values():
                busy |= budget.since is not None
                if budget.over:
                    sandbox.interrupt()
        return busy

    def _run(self) -> None:
        while True:
            self._wake.wait()
            while True:
                while self._busy():
                    time.sleep(TICK)
                self._idle = True
                self._wake.clear()
                if not self._busy():  # (a step that started as it went idle saw it busy)
                    break
                self._idle = False


WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=WATCHDOG.reset)
