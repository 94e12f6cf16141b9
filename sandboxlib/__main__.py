"""``python -m sandboxlib``: the same as the ``sandboxlib`` command."""

import sys

from .cli import main

sys.exit(main())
