"""Sandboxes kept for reuse: one per thread and backend for a drop-in's module-level
functions, closed at exit."""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any, Generic, TypeVar

from sandboxlib.proxy import LibraryProxy
from sandboxlib.runtime.backend_name import resolve_backend

P = TypeVar("P", bound=LibraryProxy)
K = TypeVar("K", bound="Kept[Any]")

_live: weakref.WeakKeyDictionary[Kept[Any], int] = weakref.WeakKeyDictionary()  # -> its pid
_inherited: list[object] = []  # a forked child's copies of its parent's: never used or closed


class Kept(Generic[P]):
    """A sandbox (``lib``, the generated proxy) a drop-in keeps using, and what it set
    up in it (subclasses add their buffers). Closed at exit if still open."""

    def __init__(self, lib: P) -> None:
        self.lib = lib
        self.closed = False
        _live[self] = os.getpid()

    @property
    def reusable(self) -> bool:
        """Whether another call may use it: not closed, not poisoned (subclasses add
        their own reasons, such as memory grown large)."""
        return not self.closed and self.lib.poisoned is None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.lib.close()


@atexit.register
def _close_at_exit() -> None:
    """Close this process's sandboxes still open, while the engines can still free them."""
    pid = os.getpid()
    for kept, owner in list(_live.items()):
        if owner == pid:
            kept.close()


class _Thread(threading.local, Generic[K]):
    """One thread's sandboxes by backend, and the backends it is running a call on."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.pid = os.getpid()
        self.kept: dict[str, K] = {}
        self.busy: set[str] = set()


class PerThread(Generic[K]):
    """The calling thread's ``K`` for a backend, made by ``open(backend name)`` on first
    use and lent for one call at a time by ``borrow``.

    A call that raised (other than ``keep_on``, the drop-in's word that the sandbox
    is fine: bad input) closes it, and so does one after which it is no longer
    ``reusable``; the next call opens another. A call made while one runs on the
    same thread (from a callback, a generator, a finalizer) gets a sandbox of its
    own, closed after it. A forked child starts with none of its parent's."""

    def __init__(self, open: Callable[[str], K],
                 keep_on: tuple[type[BaseException], ...] = ()) -> None:
        self._open = open
        self._keep_on = keep_on
        self._threads: _Thread[K] = _Thread()

    def _thread(self) -> _Thread[K]:
        thread = self._threads
        if thread.pid != os.getpid():  # forked: the parent's are left as they are
            _inherited.append(thread.kept)
            thread.reset()
        return thread

    def cached(self, backend: str | None = None) -> K | None:
        """This thread's kept sandbox for ``backend``, if there is one."""
        return self._thread().kept.get(resolve_backend(backend))

    @contextmanager
    def borrow(self, backend: str | None = None) -> Iterator[K]:
        """This thread's sandbox for ``backend`` (see ``resolve_backend``), for one call."""
        name = resolve_backend(backend)
        thread = self._thread()
        if name in thread.busy:  # re-entered: never the sandbox the running call uses
            with closing(self._open(name)) as own:
                yield own
            return
        kept = thread.kept.pop(name, None)
        if kept is None or not kept.reusable:
            if kept is not None:
                kept.close()
            kept = self._open(name)
        thread.kept[name] = kept
        thread.busy.add(name)
        failed = True
        try:
            yield kept
            failed = False
        except self._keep_on:
            failed = False
            raise
        finally:
            thread.busy.discard(name)
            if failed or not kept.reusable:
                if thread.kept.get(name) is kept:
                    del thread.kept[name]
                kept.close()
