"""Specialized Python functions generated once per shape and cached.

Hot paths (a call into a sandbox) are generated as straight-line Python for each
signature shape, the way ``dataclasses`` generates ``__init__``: no loops, no
per-call type lookups. The source is compiled once per shape; each use binds its
own constants through the returned factory.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

_factories: dict[Hashable, Callable[..., Any]] = {}


def factory(key: Hashable, free_names: tuple[str, ...], body: Callable[[], str]) -> Callable[..., Any]:
    """A function ``make(**free)`` returning the function whose source ``body()``
    gives; ``free_names`` are the names that source reads from its closure."""
    made = _factories.get(key)
    if made is None:
        inner = body().replace("\n", "\n    ")
        source = f"def make({', '.join(free_names)}):\n    {inner}\n    return fn\n"
        scope: dict[str, Any] = {}
        exec(compile(source, f"<sandboxlib specialized {key!r}>", "exec"), scope)
        made = _factories[key] = scope["make"]
    return made
