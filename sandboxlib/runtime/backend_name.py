"""Which backend a sandbox runs on when the caller does not say: the one rule,
used by ``Library.sandbox`` and by every drop-in."""

from __future__ import annotations

import os

from ..backends import BACKENDS
from ..errors import UnknownBackendError

BACKEND_ENV = "SANDBOXLIB_BACKEND"
DEFAULT_BACKEND = "wasmtime"


def resolve_backend(backend: str | None = None) -> str:
    """``backend`` if given (not None or empty), else ``$SANDBOXLIB_BACKEND`` if set and
    not empty, else wasmtime; ``UnknownBackendError`` (a ``ValueError``) for a name
    that is none of ``BACKENDS``."""
    name = backend or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    if name not in BACKENDS:
        where = "" if backend else f" (${BACKEND_ENV})"
        raise UnknownBackendError(f"unknown backend {name!r}{where}; choose one of "
                                  f"{', '.join(BACKENDS)}")
    return name
