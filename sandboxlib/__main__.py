"""``python -m sandboxlib`` and the ``sandboxlib`` command: Ctrl-C ends it with status
130 and one line from its first instruction on, also while it is still importing."""

from __future__ import annotations

import sys


def run() -> int:
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("sandboxlib: interrupted", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
