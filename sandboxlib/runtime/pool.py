"""A pool of fresh sandboxes for the sandbox-per-request pattern.

Each request gets a sandbox no other request has touched: a used sandbox is
closed, never handed out again, and a new one takes its place. The pool keeps
``size`` ready so that taking one costs a dictionary pop, not an instantiation;
refilling happens when sandboxes are returned (or on a background thread).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class SandboxPool(Generic[T]):
    """Fresh sandboxes from ``create`` (e.g. ``mylib.sandbox`` or ``lib.sandbox``)."""

    def __init__(self, create: Callable[[], T], size: int = 8, background: bool = False) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self._create = create
        self._size = size
        self._ready: deque[T] = deque(create() for _ in range(size))
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._closed = False
        self._background = background
        self.created = size
        if background:
            threading.Thread(target=self._refill_forever, name="sandboxlib-pool",
                             daemon=True).start()

    def take(self) -> T:
        """A fresh sandbox (created now if none is ready)."""
        with self._lock:
            sandbox = self._ready.popleft() if self._ready else None
        self._wanted.set()
        if sandbox is None:
            sandbox = self._create()
            self.created += 1
        return sandbox

    def give_back(self, sandbox: T) -> None:
        """Retire a used sandbox; it is closed, never reused."""
        _close(sandbox)
        if not self._background:
            self.refill()

    def refill(self) -> None:
        """Create sandboxes until ``size`` are ready."""
        while not self._closed:
            with self._lock:
                if len(self._ready) >= self._size:
                    self._wanted.clear()
                    return
            fresh = self._create()
            self.created += 1
            with self._lock:
                full = len(self._ready) >= self._size
                if not full:
                    self._ready.append(fresh)
            if full:
                _close(fresh)

    def _refill_forever(self) -> None:
        while not self._closed:
            self._wanted.wait()
            self.refill()

    @contextmanager
    def sandbox(self) -> Iterator[T]:
        """``with pool.sandbox() as lib:`` a fresh sandbox for one request."""
        sb = self.take()
        try:
            yield sb
        finally:
            self.give_back(sb)

    def close(self) -> None:
        self._closed = True
        self._wanted.set()
        with self._lock:
            ready, self._ready = list(self._ready), deque()
        for sb in ready:
            _close(sb)

    def __enter__(self) -> SandboxPool[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close(sandbox: object) -> None:
    close = getattr(sandbox, "close", None)
    if callable(close):
        close()
