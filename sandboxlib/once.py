"""Things made once per process and per key, safe when threads first ask at once.

The in-process half of building once (the build cache's file locks,
``toolchain.cache.build_entry``, are the cross-process half).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Values made by ``get(key, build)``, ``build`` running once per key.

    A hit takes no lock. A miss takes that key's own lock, so threads asking for
    the same key wait for one build while unrelated keys build in parallel (a build
    may ask for other keys). A build that raises leaves the key unset: the next
    caller tries again. In a forked child the locks start afresh (a thread that held
    one in the parent does not exist there).
    """

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._guard = threading.Lock()
        _memos.add(self)

    def get(self, key: K, build: Callable[[], V]) -> V:
        try:
            return self._values[key]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]

    def values(self) -> list[V]:
        return list(self._values.values())

    def clear(self) -> None:
        self._values.clear()

    def _after_fork(self) -> None:
        self._locks = {}
        self._guard = threading.Lock()


_memos: weakref.WeakSet[Memo[Any, Any]] = weakref.WeakSet()


class HashOnce:
    """For frozen dataclasses that key caches every sandbox looks up: the hash is
    computed once per object and never pickled (string hashes differ between
    processes). A dataclass keeps an explicit ``__hash__``, so each class says
    ``__hash__ = HashOnce.hash_once``."""

    def hash_once(self) -> int:
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(tuple(getattr(self, f) for f in self.__dataclass_fields__))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    __dataclass_fields__: dict[str, Any]


def _after_fork_in_child() -> None:
    for memo in list(_memos):
        memo._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
