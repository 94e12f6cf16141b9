"""The generated low-level package (built from ``expat.toml`` on first use), a
sandbox of it, and the library-wide strings: error messages and the version."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from sandboxlib import Limits, TaintError

from ._reader import decode

SPEC = Path(__file__).resolve().parent / "expat.toml"
_package: ModuleType | None = None


def generated() -> ModuleType:
    """The generated low-level package (built from the spec on first use)."""
    global _package
    if _package is None:
        from sandboxlib.codegen.packages import load_generated
        _package = load_generated(SPEC)
    return _package


def open_sandbox(backend: str | None, limits: Limits | None) -> Any:
    """A new sandbox: the generated proxy (a ``LibraryProxy``; typed Any here, as its
    methods come from the generated package)."""
    return generated().sandbox(backend, limits=limits)


def error_string(lib: Any, code: int) -> str:
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
    with open_sandbox(backend, None) as lib:
        if lib.XML_ErrorString(code).is_null():
            return None
        return error_string(lib, code)


def expat_version(backend: str | None = None) -> str:
    """``XML_ExpatVersion()`` of the sandboxed library, e.g. "expat_2.5.0"."""
    with open_sandbox(backend, None) as lib:
        text = lib.helpers.XML_ExpatVersion()
        if text is None:
            raise TaintError("XML_ExpatVersion() returned NULL")
        version = decode(text.unverified_safe_because("decoded strictly"), "version")
        if not version.isprintable():
            raise TaintError(f"expat version {version!r} is not printable")
        return version
