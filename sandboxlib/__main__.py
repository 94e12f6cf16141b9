"""``python -m sandboxlib`` and the ``sandboxlib`` command: Ctrl-C ends it with status
130 and one line from its first instruction on, also while it is still importing."""

from __future__ import annotations

import sys


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C: a KeyboardInterrupt, or an error Python made of one
    (3.11 turns an interrupt arriving in a class's ``__set_name__``, as while the
    standard library's ``ipaddress`` is imported, into a RuntimeError it caused)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__
    return False


def run() -> int:
    try:
        from .cli import main

        return main()
    except BaseException as exc:
        if not interrupted(exc):
            raise
        print("sandboxlib: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run())
