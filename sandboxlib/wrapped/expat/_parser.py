"""``XMLParserType``: pyexpat's parser API over one expat parser in its own sandbox,
and ``ParserCreate``."""

from __future__ import annotations

import secrets
import weakref
from typing import Any

from sandboxlib import (CallbackHandle, Limits, PoisonedError, Prim, Sandbox, SandboxError,
                        Signature, TaintedPtr)

from ._errors import XML_ERROR_INPUT_TOO_LARGE, XML_ERROR_NO_MEMORY, ExpatError
from ._events import Events, Handler, weakly
from . import _package
from ._library import error_string
from ._reader import Reader

DEFAULT_MEMORY = 256 << 20      # sandbox memory limit per parser
DEFAULT_MAX_INPUT = 1 << 30     # bytes one parser accepts over its life
MAX_CHUNK = 1 << 20             # Parse() feeds expat at most this much per call, as pyexpat
FILE_CHUNK = 2048               # ParseFile() reads this much per call, as pyexpat


# handler attribute -> (expat setter, callback type in the generated package,
# argument kinds for Events.on_other, or None for the three specialized callbacks)
HANDLERS: dict[str, tuple[str, str, str | None]] = {
    "StartElementHandler": ("XML_SetStartElementHandler", "XML_StartElementHandler", None),
    "EndElementHandler": ("XML_SetEndElementHandler", "XML_EndElementHandler", None),
    "CharacterDataHandler": ("XML_SetCharacterDataHandler", "XML_CharacterDataHandler", None),
    "ProcessingInstructionHandler": ("XML_SetProcessingInstructionHandler",
                                     "XML_ProcessingInstructionHandler", "ss"),
    "CommentHandler": ("XML_SetCommentHandler", "XML_CommentHandler", "s"),
    "StartCdataSectionHandler": ("XML_SetStartCdataSectionHandler",
                                 "XML_StartCdataSectionHandler", ""),
    "EndCdataSectionHandler": ("XML_SetEndCdataSectionHandler", "XML_EndCdataSectionHandler",
                               ""),
    "StartNamespaceDeclHandler": ("XML_SetStartNamespaceDeclHandler",
                                  "XML_StartNamespaceDeclHandler", "ss"),
    "EndNamespaceDeclHandler": ("XML_SetEndNamespaceDeclHandler", "XML_EndNamespaceDeclHandler",
                                "s"),
    "XmlDeclHandler": ("XML_SetXmlDeclHandler", "XML_XmlDeclHandler", "ssi"),
    "StartDoctypeDeclHandler": ("XML_SetStartDoctypeDeclHandler", "XML_StartDoctypeDeclHandler",
                                "sssi"),
    "EndDoctypeDeclHandler": ("XML_SetEndDoctypeDeclHandler", "XML_EndDoctypeDeclHandler", ""),
    "DefaultHandler": ("XML_SetDefaultHandler", "XML_DefaultHandler", "n"),
    "DefaultHandlerExpand": ("XML_SetDefaultHandlerExpand", "XML_DefaultHandler", "n"),
    "SkippedEntityHandler": ("XML_SetSkippedEntityHandler", "XML_SkippedEntityHandler", "si"),
}


def handler_property(name: str) -> property:
    """The parser attribute ``name``: reads the handler, sets it through ``_set_handler``."""

    def get(self: XMLParserType) -> Handler | None:
        return self._events.handlers.get(name)

    def put(self: XMLParserType, handler: Handler | None) -> None:
        self._set_handler(name, handler)

    return property(get, put, doc=f"expat's {name} (None: not called)")


class XMLParserType:
    """An expat parser in its own sandbox (see ``ParserCreate``)."""

    StartElementHandler: Handler | None
    EndElementHandler: Handler | None
    CharacterDataHandler: Handler | None
    ProcessingInstructionHandler: Handler | None
    CommentHandler: Handler | None
    StartCdataSectionHandler: Handler | None
    EndCdataSectionHandler: Handler | None
    StartNamespaceDeclHandler: Handler | None
    EndNamespaceDeclHandler: Handler | None
    XmlDeclHandler: Handler | None
    StartDoctypeDeclHandler: Handler | None
    EndDoctypeDeclHandler: Handler | None
    DefaultHandler: Handler | None
    DefaultHandlerExpand: Handler | None
    SkippedEntityHandler: Handler | None

    def __init__(self, encoding: str | None = None, namespace_separator: str | None = None,
                 *, backend: str | None = None, limits: Limits | None = None,
                 max_input: int | None = DEFAULT_MAX_INPUT) -> None:
        if encoding is not None and (not isinstance(encoding, str) or "\0" in encoding):
            raise TypeError(f"encoding must be a str without NUL or None, not {encoding!r}")
        if namespace_separator is not None:
            if not isinstance(namespace_separator, str):
                raise TypeError("namespace_separator must be a str or None")
            if len(namespace_separator.encode()) > 1:
                raise ValueError("namespace_separator must be at most one character, omitted, "
                                 "or None")
        limits = limits or Limits(memory_bytes=DEFAULT_MEMORY)
        self._lib = _package.sandbox(backend, limits=limits)
        self._max_input = max_input
        self._fed = 0
        self._parsing = False
        self._failed: ExpatError | None = None
        self._callbacks: dict[str, CallbackHandle] = {}
        self._registered: set[str] = set()  # handlers registered one event at a time
        self._batched = False  # the event log's handlers are registered instead
        lib = self._lib
        if namespace_separator is None:
            parser = lib.XML_ParserCreate(encoding)
        else:
            parser = lib.XML_ParserCreateNS(encoding, ord(namespace_separator or "\0"))
        if parser.is_null():
            lib.close()
            raise MemoryError("XML_ParserCreate failed")
        self._parser = parser
        # The salt keys expat's hash tables against collision floods; the sandbox has
        # no entropy of its own (see config/expat_config.h), so the host gives one.
        bits = 8 * lib.sandbox.model.size(Prim.ULONG)
        lib.XML_SetHashSalt(parser, secrets.randbits(bits) | 1)
        self._events = Events(Reader(lib, limits.memory_bytes))
        self._namespace_prefixes = False
        lib.XML_SetUnknownEncodingHandler(parser, lib.callback(
            weakly(self._events, "on_unknown_encoding"), _package.XML_UnknownEncodingHandler,
            "UnknownEncodingHandler"), None)
        self._log = lib.SBX_LogCreate(parser, lib.callback(
            weakly(self._events, "on_batch"), _package.SBX_LogFlush, "EventLog"))
        if self._log.is_null():
            lib.close()
            raise MemoryError("SBX_LogCreate failed")
        self._finalizer = weakref.finalize(self, _release, lib, parser)

    # -- handlers ---------------------------------------------------------------------
    def _set_handler(self, name: str, handler: Handler | None) -> None:
        if handler is not None and not callable(handler):
            raise TypeError(f"{name} must be callable or None")
        events = self._events
        if name == "CharacterDataHandler":
            events.flush()  # pending text goes to the handler it was collected for
        events.handlers[name] = handler
        if not self._batched:
            self._register(name, handler is not None)

    def _register(self, name: str, on: bool) -> None:
        """Register (or not) the per-event sandbox callback for ``name``."""
        if on != (name in self._registered):
            setter = getattr(self._lib, HANDLERS[name][0])
            setter(self._parser, self._callback(name) if on else None)
            (self._registered.add if on else self._registered.discard)(name)

    def _choose_path(self) -> None:
        """Before each parsing step: batch the events in the sandbox's event log
        unless a default handler is set (what it is given depends on which other
        handlers expat has, so those are registered one by one, each event a call
        into the host), or no handler is (then nothing is registered)."""
        handlers = self._events.handlers
        batched = (handlers.get("DefaultHandler") is None
                   and handlers.get("DefaultHandlerExpand") is None
                   and any(h is not None for h in handlers.values()))
        if batched == self._batched:
            return
        if batched:
            for name in list(self._registered):
                self._register(name, False)
            self._lib.SBX_LogAttach(self._log)
        else:
            self._lib.SBX_LogDetach(self._log)
            for name, handler in handlers.items():
                self._register(name, handler is not None)
        self._batched = batched

    def _callback(self, name: str) -> CallbackHandle:
        """The sandbox callback for ``name``, registered once per parser."""
        handle = self._callbacks.get(name)
        if handle is None:
            _, type_name, kinds = HANDLERS[name]
            sig: Signature = getattr(_package, type_name)
            special = {"StartElementHandler": "on_start", "EndElementHandler": "on_end",
                       "CharacterDataHandler": "on_characters"}.get(name)
            fn = (weakly(self._events, special) if special else
                  weakly(self._events, "on_other", name, kinds))
            handle = self._callbacks[name] = self._lib.callback(fn, sig, name)
        return handle

    # -- options ----------------------------------------------------------------------
    @property
    def ordered_attributes(self) -> bool:
        """Attributes as a list [name, value, ...] in document order, not a dict."""
        return self._events.ordered_attributes

    @ordered_attributes.setter
    def ordered_attributes(self, value: bool) -> None:
        self._events.ordered_attributes = bool(value)

    @property
    def buffer_text(self) -> bool:
        """Join adjacent character data into one CharacterDataHandler call."""
        return self._events.buffer is not None

    @buffer_text.setter
    def buffer_text(self, value: bool) -> None:
        events = self._events
        if value and events.buffer is None:
            events.buffer, events.buffer_used = [], 0
        elif not value and events.buffer is not None:
            events.flush()
            events.buffer = None

    @property
    def buffer_size(self) -> int:
        return self._events.buffer_size

    @buffer_size.setter
    def buffer_size(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("buffer_size must be an integer")
        if value <= 0:
            raise ValueError("buffer_size must be greater than zero")
        self._events.flush()
        self._events.buffer_size = value

    @property
    def buffer_used(self) -> int:
        return self._events.buffer_used

    @property
    def namespace_prefixes(self) -> bool:
        """Report namespaced names as "uri sep local sep prefix" triplets."""
        return self._namespace_prefixes

    @namespace_prefixes.setter
    def namespace_prefixes(self, value: bool) -> None:
        self._lib.XML_SetReturnNSTriplet(self._parser, int(bool(value)))
        self._namespace_prefixes = bool(value)

    def SetParamEntityParsing(self, flag: int) -> int:
        """XML_SetParamEntityParsing; returns whether the flag was accepted."""
        ok: int = self._lib.XML_SetParamEntityParsing(self._parser, flag).verify_range(0, 1)
        return ok

    def SetBillionLaughsProtection(self, max_amplification: float | None = None,
                                   activation_threshold: int | None = None) -> None:
        """Tune expat's amplification limits (defaults: 100.0 and 8 MiB)."""
        lib = self._lib
        if max_amplification is not None:
            lib.XML_SetBillionLaughsAttackProtectionMaximumAmplification(
                self._parser, float(max_amplification)).verify_in((0, 1))
        if activation_threshold is not None:
            lib.XML_SetBillionLaughsAttackProtectionActivationThreshold(
                self._parser, activation_threshold).verify_in((0, 1))

    # -- parsing ----------------------------------------------------------------------
    def interrupt(self) -> bool:
        """Stop this parser's running ``Parse()`` from another thread (an asyncio server
        enforcing its deadline): it raises ``sandboxlib.Interrupted`` and the parser is
        unusable. False if no call was running; the native backend cannot stop one
        (``SandboxError``)."""
        return self._lib.sandbox.interrupt()

    def _check_usable(self) -> None:
        reason = self._lib.sandbox.poisoned
        if reason is not None:
            raise PoisonedError(f"this expat parser is unusable ({reason}); create a new one "
                                "with ParserCreate()")
        if self._parsing:
            raise RuntimeError("the parser is already parsing: Parse() and ParseFile() cannot "
                               "be called from a handler")
        if self._failed is not None:
            raise self._failed

    def _account(self, n: int) -> None:
        self._fed += n
        if self._max_input is not None and self._fed > self._max_input:
            self._failed = self._error(XML_ERROR_INPUT_TOO_LARGE,
                                       f"input larger than max_input={self._max_input} bytes")
            raise self._failed

    def _feed(self, chunk: memoryview, final: int) -> int:
        """One XML_Parse step (XML_Parse itself is GetBuffer + memcpy + ParseBuffer
        when XML_CONTEXT_BYTES is set, so the events are pyexpat's)."""
        lib, parser = self._lib, self._parser
        n = len(chunk)
        if n == 0:
            self._choose_path()
            if self._batched:
                status = lib.SBX_LogParse(self._log, None, 0, final)
            else:
                status = lib.XML_Parse(parser, None, 0, final)
            result: int = status.verify_in((0, 1, 2))
            return result
        buf: TaintedPtr = lib.XML_GetBuffer(parser, n)
        if buf.is_null():
            return 0
        lib.sandbox.memory.write(buf.unverified_safe_because(
            "Memory.write bounds-checks the whole span against sandbox memory"), chunk)
        return self._parse_buffer(n, final)

    def _parse_buffer(self, n: int, final: int) -> int:
        """XML_ParseBuffer, through the event log when batching."""
        self._choose_path()
        if self._batched:
            status = self._lib.SBX_LogParseBuffer(self._log, n, final)
        else:
            status = self._lib.XML_ParseBuffer(self._parser, n, final)
        result: int = status.verify_in((0, 1, 2))
        return result

    def Parse(self, data: str | bytes | bytearray | memoryview, isfinal: bool = False) -> int:
        """Parse ``data`` (str is sent as UTF-8); ``isfinal`` at the end of input."""
        self._check_usable()
        if isinstance(data, str):
            data = data.encode("utf-8")
            self._lib.XML_SetEncoding(self._parser, "utf-8")
        view = memoryview(data).cast("B")
        self._account(len(view))
        self._parsing = True
        try:
            pos, status = 0, 1
            while len(view) - pos > MAX_CHUNK:
                status = self._feed(view[pos:pos + MAX_CHUNK], 0)
                if not status:
                    break
                pos += MAX_CHUNK
            if status:
                status = self._feed(view[pos:], int(bool(isfinal)))
        finally:
            self._parsing = False
        return self._result(status)

    def ParseFile(self, file: Any) -> int:
        """Parse everything ``file.read(n)`` returns (bytes), to its end."""
        self._check_usable()
        read = getattr(file, "read", None)
        if read is None:
            raise TypeError("argument must have 'read' attribute")
        lib, parser, memory = self._lib, self._parser, self._lib.sandbox.memory
        self._parsing = True
        try:
            while True:
                buf: TaintedPtr = lib.XML_GetBuffer(parser, FILE_CHUNK)
                if buf.is_null():
                    status = 0
                    break
                data = read(FILE_CHUNK)
                if not isinstance(data, (bytes, bytearray)):
                    raise TypeError("read() did not return a bytes object "
                                    f"(type={type(data).__name__})")
                if len(data) > FILE_CHUNK:
                    raise ValueError(f"read() returned too much data: {FILE_CHUNK} bytes "
                                     f"requested, {len(data)} returned")
                self._account(len(data))
                if data:
                    memory.write(buf.unverified_safe_because(
                        "Memory.write bounds-checks the whole span"), data)
                status = self._parse_buffer(len(data), int(not data))
                if not status or not data:
                    break
        finally:
            self._parsing = False
        return self._result(status)

    def _result(self, status: int) -> int:
        if not status:
            failed = self._batched and self._lib.SBX_LogFailed(self._log).verify_in((0, 1))
            raise self._error(XML_ERROR_NO_MEMORY if failed else self.ErrorCode)
        self._events.flush()
        return status

    def _error(self, code: int, message: str | None = None) -> ExpatError:
        """An ExpatError like pyexpat's: "<XML_ErrorString>: line L, column C"."""
        line, column = self.ErrorLineNumber, self.ErrorColumnNumber
        if message is None:
            message = error_string(self._lib, code)
        return ExpatError(f"{message}: line {line}, column {column}", code, line, column)

    # -- positions and errors (pyexpat's attribute names) -----------------------------
    def _number(self, fn: str, low: int = 0) -> int:
        value: int = getattr(self._lib, fn)(self._parser).verify_range(low, (1 << 63) - 1)
        return value

    @property
    def ErrorCode(self) -> int:
        return self._number("XML_GetErrorCode")

    def _position(self, field: int, fn: str, low: int = 0) -> int:
        """Inside a handler of a batched event, where expat was at that event (the
        log records it); otherwise where expat is now."""
        value = self._events.position(field, low)
        return self._number(fn, low) if value is None else value

    @property
    def ErrorLineNumber(self) -> int:
        return self._position(1, "XML_GetCurrentLineNumber")

    @property
    def ErrorColumnNumber(self) -> int:
        return self._position(2, "XML_GetCurrentColumnNumber")

    @property
    def ErrorByteIndex(self) -> int:
        return self._position(3, "XML_GetCurrentByteIndex", -1)

    CurrentLineNumber = ErrorLineNumber
    CurrentColumnNumber = ErrorColumnNumber
    CurrentByteIndex = ErrorByteIndex

    # -- lifecycle --------------------------------------------------------------------
    @property
    def sandbox(self) -> Sandbox:
        """The parser's sandbox (``sandboxlib.Sandbox``)."""
        return self._lib.sandbox

    def close(self) -> None:
        """Free the parser and its sandbox now (otherwise when it is collected)."""
        self._finalizer()

    def __enter__(self) -> XMLParserType:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


for _name in HANDLERS:
    setattr(XMLParserType, _name, handler_property(_name))
XMLParserType.__module__ = "sandboxlib.wrapped.expat"


def _release(lib: _package.Expat, parser: _package.XML_ParserStruct_ptr) -> None:
    """Close the sandbox (and all of expat's memory with it); on the native backend
    expat's parser lives in the process heap, so it is freed first."""
    try:
        if not lib.sandbox.isolated and lib.sandbox.poisoned is None:
            lib.XML_ParserFree(parser)
    except SandboxError:
        pass
    finally:
        lib.close()


def ParserCreate(encoding: str | None = None, namespace_separator: str | None = None,
                 intern: dict[str, str] | None = None, *, backend: str | None = None,
                 limits: Limits | None = None,
                 max_input: int | None = DEFAULT_MAX_INPUT) -> XMLParserType:
    """A new parser, as ``xml.parsers.expat.ParserCreate``.

    ``backend``: "wasmtime", "wasm2c" or "native" (default: $SANDBOXLIB_BACKEND, else
    wasmtime). ``limits``: the sandbox's (default: ``DEFAULT_MEMORY`` of memory).
    ``max_input``: bytes the parser accepts in all (None: no limit). ``intern`` is
    accepted for compatibility and not used (strings are equal, not identical)."""
    return XMLParserType(encoding, namespace_separator, backend=backend, limits=limits,
                         max_input=max_input)
