"""Workloads other packages add to ``sandboxlib bench``, found through the entry-point
group ``sandboxlib.bench`` (so sandboxlib never imports the packages it measures).

An entry point names a ``Workload``: a callable ``(record, quick)`` that measures and
calls ``record(name, backend, seconds, unit)`` once per result. The row whose backend
is ``"native"`` is the reference the other rows of the same name are divided by
(for a wrapped library: the module CPython ships, e.g. ``zlib``); ``quick`` asks for
fewer rounds. ``sandboxlib.wrapped.zlib`` and ``sandboxlib.wrapped.expat`` register theirs in
``pyproject.toml``::

    [project.entry-points."sandboxlib.bench"]
    zlib = "sandboxlib.wrapped.zlib.bench:workload"
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Callable, Protocol, cast

from ..progress import LOGGER

GROUP = "sandboxlib.bench"
CORPUS_GROUP = "sandboxlib.bench.corpus"


class Record(Protocol):
    """Adds one result to the suite (``unit``: how it is shown, "us" or "ms")."""

    def __call__(self, name: str, backend: str, seconds: float, unit: str = "us") -> None: ...


Workload = Callable[[Record, bool], None]


def registered() -> list[tuple[str, Workload]]:
    """The installed workloads and their entry-point names, in name order (installers
    do not keep the declared order). One that needs a package not installed (an
    optional extra's, such as Pillow for ``sandboxlib.wrapped.image``) is left out."""
    loaded = []
    for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name):
        try:
            loaded.append((ep.name, cast(Workload, ep.load())))
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.partition(".")[0] == "sandboxlib":
                raise
            LOGGER.info("bench: %s left out: it needs %s, not installed", ep.name, exc.name)
    return loaded


Op = Callable[[], object]


@dataclass(frozen=True)
class Case:
    """A workload of ``sandboxlib bench --corpus``: ``prepare(backend, stack)`` opens
    what it runs in (closed by ``stack``) and returns the operation to time, whose
    result every backend must give alike. A package adds its own through the group
    ``sandboxlib.bench.corpus``: an entry point names a function returning its Case."""

    name: str
    what: str
    prepare: Callable[[str, ExitStack], Op]


def registered_cases() -> list[Case]:
    """The corpus cases other packages add (the drop-ins), in entry-point name order."""
    found = sorted(entry_points(group=CORPUS_GROUP), key=lambda ep: ep.name)
    return [cast(Callable[[], Case], ep.load())() for ep in found]
