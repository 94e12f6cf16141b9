"""The generated low-level package's sandboxes (``_package``, built from ``expat.toml``
on first use) and the library-wide strings: error messages and the version."""

from __future__ import annotations

from pathlib import Path

from sandboxlib import TaintError
from sandboxlib.wrapped._skeleton import Kept, PerThread

from . import _package
from ._reader import decode

SPEC = Path(__file__).resolve().parent / "expat.toml"
_sandboxes = PerThread(lambda backend: Kept(_package.sandbox(backend)))
"""Each thread's sandbox per backend for ``ErrorString`` and ``expat_version`` (a
parser has one of its own)."""


def error_string(lib: _package.Expat, code: int) -> str:
    """expat's message for ``code`` (``XML_ErrorString``), checked to be printable."""
    text = lib.helpers.XML_ErrorString(code)
    if text is None:
        return f"unknown error {code}"
    message = decode(text.unverified_safe_because("decoded strictly"), "error string")
    if not message.isprintable():
        raise TaintError(f"expat error string {message!r} is not printable text")
    return message


def ErrorString(code: int, *, backend: str | None = None) -> str | None:
    """expat's message for an error code (None for an unknown one), as pyexpat's."""
    with _sandboxes.borrow(backend) as kept:
        if kept.lib.XML_ErrorString(code).is_null():
            return None
        return error_string(kept.lib, code)


def expat_version(backend: str | None = None) -> str:
    """``XML_ExpatVersion()`` of the sandboxed library, e.g. "expat_2.5.0"."""
    with _sandboxes.borrow(backend) as kept:
        text = kept.lib.helpers.XML_ExpatVersion()
        if text is None:
            raise TaintError("XML_ExpatVersion() returned NULL")
        version = decode(text.unverified_safe_because("decoded strictly"), "version")
        if not version.isprintable():
            raise TaintError(f"expat version {version!r} is not printable")
        return version
