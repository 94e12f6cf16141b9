"""``error`` (what every failure raises: a subclass of CPython's ``zlib.error``), the
output guard's ``LimitExceeded``, and the checks that raise them."""

from __future__ import annotations

import zlib as _zlib

import sandboxlib
from sandboxlib import SandboxError, TaintError

from ._package import Z_BUF_ERROR, Z_DATA_ERROR, Z_STREAM_ERROR, Z_VERSION_ERROR


class error(SandboxError, _zlib.error):
    """Raised by sandboxlib.wrapped.zlib for zlib errors, and for a sandbox that failed (a trap,
    a limit, a value that did not verify); ``except zlib.error`` catches it."""


error.__module__ = "sandboxlib.wrapped.zlib"


class LimitExceeded(error, sandboxlib.LimitExceeded):
    """The output guard (``max_output``) stopped a decompression."""


def insist(ok: bool, what: str) -> None:
    """A check on the sandbox's behaviour that real zlib always passes."""
    if not ok:
        raise TaintError(f"zlib in the sandbox misbehaved: {what}")


def zlib_error(code: int, what: str, msg: str | None) -> error:
    """The error CPython's zlib raises for ``code`` (same wording)."""
    if code == Z_VERSION_ERROR:
        msg = "library version mismatch"
    if msg is None:
        msg = {Z_BUF_ERROR: "incomplete or truncated stream",
               Z_STREAM_ERROR: "inconsistent stream state",
               Z_DATA_ERROR: "invalid input data"}.get(code)
    return error(f"Error {code} {what}" if msg is None else f"Error {code} {what}: {msg}")
