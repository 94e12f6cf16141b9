"""``ExpatError`` (also ``error``) and the error codes the wrapper adds to expat's."""

from __future__ import annotations

import xml.parsers.expat as _pyexpat

from sandboxlib import SandboxError

XML_ERROR_INPUT_TOO_LARGE = 1000  # ours, outside expat's numbering
XML_ERROR_NO_MEMORY = 1        # expat's, reported when the event log cannot grow


class ExpatError(SandboxError, _pyexpat.ExpatError):
    """Expat rejected the document: ``code`` (an ``XML_ERROR_*``), ``lineno`` and
    ``offset`` (the column) where it stopped."""

    def __init__(self, message: str, code: int = 0, lineno: int = 0, offset: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.lineno = lineno
        self.offset = offset


ExpatError.__module__ = "sandboxlib.wrapped.expat"
error = ExpatError
