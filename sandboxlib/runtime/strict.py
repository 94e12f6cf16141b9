"""Strict temporaries: the copies a call makes of its ``bytes``/``str`` arguments die
when it returns, alike on every backend, so a library that keeps such a pointer past
the call (it must be given ``lib.keep(data)`` instead) reads poison, not stale or
foreign data. Off by default (a call's copies then share a reused scratch area); on
with ``set_strict(True)`` or ``SANDBOXLIB_STRICT=1``, as in sandboxlib's test suite.
A sandbox takes the setting when it is created."""

from __future__ import annotations

import os

ENV = "SANDBOXLIB_STRICT"
POISON = 0xDB                # every byte of a dead temporary copy
QUARANTINE_BYTES = 4 << 20   # dead copies kept allocated (so not reused) per sandbox

_strict = os.environ.get(ENV, "") not in ("", "0")


def set_strict(on: bool) -> None:
    """Turn strict temporaries on or off for sandboxes created from now on."""
    global _strict
    _strict = bool(on)


def strict() -> bool:
    """Whether sandboxes created now get strict temporaries."""
    return _strict
