"""``xml.parsers.expat``'s API on expat 2.5.0 running in a sandbox.

```python
from wrapped import expat
p = expat.ParserCreate(namespace_separator=" ", backend="wasmtime")
p.StartElementHandler = lambda name, attrs: print(name, attrs)
p.Parse(b"<doc xmlns='urn:x' a='1'/>", True)
```

Each parser owns one sandbox (an instance of expat compiled to wasm32, or the
native build on the ``native`` backend). Events are batched inside the sandbox: our
event log (``shim/event_log.c``) registers its own expat handlers, which record each
event (its kind, its strings, expat's line, column and byte index at it) in sandbox
memory and call the host once per batch (when the log is full, and at the end of
each parsing step). The host copies the batch out, checks it whole (counts, kinds,
lengths, strict UTF-8), then calls the handlers in order, each looked up when its
event is dispatched; ``CurrentLineNumber`` and friends inside a handler are the
recorded positions. With a ``DefaultHandler`` or ``DefaultHandlerExpand`` set, what
expat reports depends on which handlers it has, so then each handler is registered
in expat itself and every event is one call into the host (the per-event path,
pointers and lengths bounds-checked per event). Events, errors and positions are
those of ``pyexpat`` (the same expat version, fed the same way), with one
exception: the path is chosen at each parsing step, so a default handler set (or
cleared) *inside* a handler takes effect from the next ``Parse()`` call (or 1 MiB
step of one).

Errors: malformed input raises ``ExpatError`` (``code``, ``lineno``, ``offset``, a
message like pyexpat's); it is a ``sandboxlib.SandboxError`` and also an
``xml.parsers.expat.ExpatError``. An exception raised by a handler propagates out
of ``Parse`` as it does with pyexpat (the rest of its batch is never delivered);
that parser's sandbox is then poisoned and the parser raises ``PoisonedError`` on
every later use (create a new one). A trap inside expat raises ``TrapError``, a CPU
limit ``ResourceError``; the host and other parsers are unaffected. Running out of
sandbox memory is expat's ``XML_ERROR_NO_MEMORY``; feeding more than ``max_input``
bytes is ``XML_ERROR_INPUT_TOO_LARGE`` (ours). expat's own billion-laughs protection
is on (``SetBillionLaughsProtection`` tunes it; a change made inside a handler
applies after the events already in that handler's batch).

The sandbox has no entropy: the host salts expat's hash tables (``XML_SetHashSalt``
with a value from ``secrets``, as pyexpat does with Python's hash secret), and the
module imports nothing at all (see ``config/expat_config.h``). Encodings expat does
not know come from Python's single-byte codecs, as in pyexpat.

Cost: parsing itself runs at 1.7-2x native speed; with start/end/character-data
handlers, a large document parses in 1.5-1.9x pyexpat's time (the Python dispatch
loop is most of the difference; on the per-event path each event is a call from the
sandbox costing a few microseconds). A parser costs 0.1-0.2 ms to create (its own
sandbox: documents never share one).
"""

from __future__ import annotations

import secrets
import struct
import sys
import weakref
import xml.parsers.expat as _pyexpat
from array import array
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from sandboxlib import (Limits, PoisonedError, Prim, SandboxError, Signature, TaintError,
                        Tainted, TaintedPtr)
from sandboxlib.proxy import LibraryProxy

__all__ = ["DEFAULT_MAX_INPUT", "DEFAULT_MEMORY", "ErrorString", "ExpatError",
           "XML_ERROR_INPUT_TOO_LARGE", "XMLParserType", "ParserCreate", "error",
           "expat_version"]

SPEC = Path(__file__).resolve().parent / "expat.toml"
DEFAULT_MEMORY = 256 << 20      # sandbox memory limit per parser
DEFAULT_MAX_INPUT = 1 << 30     # bytes one parser accepts over its life
XML_ERROR_INPUT_TOO_LARGE = 1000  # ours, outside expat's numbering
_XML_ERROR_NO_MEMORY = 1        # expat's, reported when the event log cannot grow
MAX_CHUNK = 1 << 20             # Parse() feeds expat at most this much per call, as pyexpat
FILE_CHUNK = 2048               # ParseFile() reads this much per call, as pyexpat

Handler = Callable[..., Any]


class ExpatError(SandboxError, _pyexpat.ExpatError):
    """Expat rejected the document: ``code`` (an ``XML_ERROR_*``), ``lineno`` and
    ``offset`` (the column) where it stopped."""

    def __init__(self, message: str, code: int = 0, lineno: int = 0, offset: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.lineno = lineno
        self.offset = offset


error = ExpatError

_package: ModuleType | None = None


def _generated() -> ModuleType:
    """The generated low-level package (built from the spec on first use)."""
    global _package
    if _package is None:
        from sandboxlib.codegen.packages import load_generated
        _package = load_generated(SPEC)
    return _package


def _open(backend: str | None, limits: Limits | None) -> Any:
    """A new sandbox: the generated proxy (a ``LibraryProxy``; typed Any here, as its
    methods come from the generated package)."""
    return _generated().sandbox(backend, limits=limits)


# -- reading what expat hands the host ------------------------------------------------

def _decode(raw: bytes, what: str) -> str:
    """Strict UTF-8 is the check on text from the sandbox: expat only reports
    well-formed text."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaintError(f"expat {what}: not UTF-8 ({exc})") from None


class _Reader:
    """Copies strings, pointer arrays and event-log batches out of one sandbox's memory.

    Every pointer and length is the sandbox's, so unchecked until used: a string is
    at most ``max_len`` bytes (the sandbox's memory limit: none can be longer) and
    must be strict UTF-8. On an isolating backend an event's reads go through a
    *window*, ``Memory.whole()``: one region query per event instead of one per
    string, every slice bounds-checked by Python; a long string, or one outside the
    window, takes the exact path (``Memory`` reads). A window is dropped before
    any user code runs (that code may call into the sandbox, which may move its
    memory). The native backend has no window: reading ahead of a string there
    could touch unmapped host memory.
    """

    PEEK = 256  # a string shorter than this is found in one slice of the window

    def __init__(self, lib: LibraryProxy, max_len: int) -> None:
        sandbox = lib.sandbox
        self.memory = sandbox.memory
        self.max_len = max_len
        self.isolated = sandbox.isolated
        self.ptr_size = sandbox.model.pointer_size
        self.ptr_fmt = "<Q" if self.ptr_size == 8 else "<I"
        self.int_order = "<" if sandbox.isolated else "="  # wasm32 is little-endian
        self.swap = sandbox.isolated and sys.byteorder == "big"

    def window(self) -> memoryview | None:
        return self.memory.whole() if self.isolated else None

    def text(self, window: memoryview | None, ptr: TaintedPtr, what: str) -> str | None:
        """The C string at ``ptr`` (None for NULL)."""
        address = ptr.unverified_safe_because("checked against the window or by copy_string")
        return None if address == 0 else self._string(window, address, what)

    def _string(self, window: memoryview | None, address: int, what: str) -> str:
        """The C string at ``address``, an unchecked non-zero number from the sandbox."""
        if window is not None and 0 < address < len(window):
            chunk = window[address:address + self.PEEK].tobytes()
            end = chunk.find(0)
            if end >= 0:
                return _decode(chunk[:end], what)
        try:  # the exact path: Memory checks the pointer and finds the NUL within max_len
            return _decode(self.memory.read_cstring(address, self.max_len), what)
        except TaintError as exc:
            raise type(exc)(f"expat {what}: {exc}") from None

    def data(self, window: memoryview | None, ptr: TaintedPtr, length: Tainted[int],
             what: str) -> tuple[str, int]:
        """``length`` bytes at ``ptr`` as text, and the checked length."""
        n = length.verify_range(0, self.max_len)
        if n == 0:
            return "", 0
        address = ptr.unverified_safe_because("checked against the window or by Memory.read")
        if window is not None and 0 < address and address + n <= len(window):
            return _decode(window[address:address + n].tobytes(), what), n
        return _decode(self._read(address, n, what), what), n

    def span(self, ptr: TaintedPtr, length: int, what: str) -> bytes:
        """``length`` bytes at ``ptr``, exactly bounds-checked (a batch of the log)."""
        address = ptr.unverified_safe_because("Memory.read checks the whole span")
        return self._read(address, length, what) if length else b""

    def _read(self, address: int, n: int, what: str) -> bytes:
        try:
            return self.memory.read(address, n)
        except TaintError as exc:
            raise type(exc)(f"expat {what}: {exc}") from None

    def strings(self, window: memoryview | None, array: TaintedPtr, what: str) -> list[str]:
        """The strings of a NULL-terminated array of string pointers (expat's
        attributes: name, value, name, value, ..., NULL)."""
        out: list[str] = []
        size = self.ptr_size
        limit = self.max_len // size
        address = array.unverified_safe_because("checked against the window or by Memory.read")
        while True:
            start = address + len(out) * size
            if window is not None and 0 < start < len(window):
                block = window[start:start + 16 * size].tobytes()
                block = block[:len(block) - len(block) % size]
            else:
                block = b""
            if not block:  # outside the window, or native: one entry, exactly checked
                block = self._read(start, size, f"{what} array")
            for (entry,) in struct.iter_unpack(self.ptr_fmt, block):
                if entry == 0:
                    return out
                out.append(self._string(window, entry, what))
            if len(out) > limit:
                raise TaintError(f"expat {what} array: more than {limit} entries")


# -- the events: what the sandbox calls ------------------------------------------------

class _Events:
    """Per-parser handler state and the sandbox callbacks. It holds no reference to
    the sandbox, so a parser nobody references is collected (and its sandbox with it)."""

    __slots__ = ("reader", "handlers", "ordered_attributes", "buffer", "buffer_used",
                 "buffer_size", "records", "at", "__weakref__")

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.handlers: dict[str, Handler | None] = {}
        self.ordered_attributes = False
        self.buffer: list[str] | None = None  # buffer_text: pending text and its size
        self.buffer_used = 0
        self.buffer_size = 8192
        self.records = memoryview(b"").cast("q")  # the batch being dispatched (on_batch)
        self.at = -1  # where its current event's record starts (-1: not dispatching)

    # character data, with pyexpat's buffer_text semantics (sizes in UTF-8 bytes)
    def flush(self) -> None:
        if self.buffer:
            text = "".join(self.buffer)
            self.buffer.clear()
            self.buffer_used = 0
            handler = self.handlers.get("CharacterDataHandler")
            if handler is not None:
                handler(text)

    def on_characters(self, user: TaintedPtr, s: TaintedPtr, length: Tainted[int]) -> None:
        if self.handlers.get("CharacterDataHandler") is not None:
            reader = self.reader
            self.characters(*reader.data(reader.window(), s, length, "character data"))

    def characters(self, text: str, n: int) -> None:
        """Character data (``n`` bytes of UTF-8), to the handler or the buffer."""
        handler = self.handlers.get("CharacterDataHandler")
        if handler is None:
            return
        buffer = self.buffer
        if buffer is None:
            handler(text)
            return
        if self.buffer_used + n > self.buffer_size:
            self.flush()
            handler = self.handlers.get("CharacterDataHandler")
            if handler is None:
                return
        if n > self.buffer_size:
            if handler is not None:
                handler(text)
            self.buffer_used = 0
        else:
            buffer.append(text)
            self.buffer_used += n

    def on_start(self, user: TaintedPtr, name: TaintedPtr, atts: TaintedPtr) -> None:
        if self.buffer:
            self.flush()
        handler = self.handlers.get("StartElementHandler")
        if handler is None:
            return
        reader = self.reader
        window = reader.window()
        tag = reader.text(window, name, "element name")
        items = reader.strings(window, atts, "attribute")
        del window
        if tag is None or len(items) % 2:
            raise TaintError("expat start element: NULL name, or an attribute without a value")
        if self.ordered_attributes:
            handler(tag, items)
        else:
            handler(tag, dict(zip(items[::2], items[1::2])))

    def on_end(self, user: TaintedPtr, name: TaintedPtr) -> None:
        if self.buffer:
            self.flush()
        handler = self.handlers.get("EndElementHandler")
        if handler is None:
            return
        reader = self.reader
        tag = reader.text(reader.window(), name, "element name")
        if tag is None:
            raise TaintError("expat end element: NULL name")
        handler(tag)

    def on_unknown_encoding(self, data: TaintedPtr, name: TaintedPtr, info: TaintedPtr) -> int:
        """Fill expat's byte -> code point map from a Python codec, as pyexpat does
        for single-byte encodings expat does not know (LookupError for no codec)."""
        reader = self.reader
        encoding = reader.text(reader.window(), name, "encoding name")
        if encoding is None or info.is_null():
            raise TaintError("expat asked for an unknown encoding with NULL arguments")
        table = bytes(range(256)).decode(encoding, "replace")
        if len(table) != 256:
            raise ValueError("multi-byte encodings are not supported")
        codes = [-1 if ch == "\ufffd" else ord(ch) for ch in table]
        reader.memory.write(info.unverified_safe_because("Memory.write checks the whole span"),
                            struct.pack(f"{reader.int_order}256i", *codes))  # XML_Encoding.map
        return 1

    def on_other(self, handler_name: str, kinds: str, user: TaintedPtr, *raw: Any) -> None:
        """Any other event; its arguments (after userData) are converted by ``kinds``:
        s a C string (or None), n a (pointer, length) text, i an int."""
        if self.buffer:
            self.flush()
        handler = self.handlers.get(handler_name)
        if handler is None:
            return
        reader = self.reader
        window = reader.window() if "s" in kinds or "n" in kinds else None
        what = f"{handler_name} argument"
        args: list[Any] = []
        i = 0
        for kind in kinds:
            if kind == "s":
                args.append(reader.text(window, raw[i], what))
            elif kind == "n":
                args.append(reader.data(window, raw[i], raw[i + 1], what)[0])
                i += 1
            else:
                args.append(raw[i].verify_range(-(1 << 31), (1 << 31) - 1))
            i += 1
        del window
        handler(*args)

    def on_batch(self, count: Tainted[int], records: TaintedPtr, text_len: Tainted[int],
                 text: TaintedPtr) -> None:
        """A batch of the event log (shim/event_log.h): copy it out and check it whole,
        then dispatch each event to the handler set *now* (handlers may change on the
        way). Records stay packed; only kinds and string counts become Python ints."""
        reader = self.reader
        n = count.verify_range(0, reader.max_len // (_FIELDS * 8))
        records_raw = reader.span(records, n * _FIELDS * 8, "event records")
        blob = reader.span(text, text_len.verify_range(0, reader.max_len), "event text")
        if reader.swap:
            swapped = array("q", records_raw)
            swapped.byteswap()
            numbers = memoryview(swapped)
        else:
            numbers = memoryview(records_raw).cast("q")
        kinds, counts = numbers[0::_FIELDS].tolist(), numbers[4::_FIELDS].tolist()
        strs = _decode(blob, "event text").split("\0")
        # with this, and each event taking exactly its count (>= 0) of strings in turn,
        # every string is used once, in order
        if (blob and blob[-1]) or sum(counts) != len(strs) - 1:
            raise TaintError("expat event log: its records do not match its text")
        self.records = numbers
        try:
            self._dispatch(kinds, counts, strs)
        finally:
            self.at = -1

    def _dispatch(self, kinds: list[int], counts: list[int], strs: list[str]) -> None:
        handlers = self.handlers
        j = 0
        for at, kind, k in zip(range(0, len(kinds) * _FIELDS, _FIELDS), kinds, counts):
            self.at = at
            if kind == _EV_CHARS:
                if k != 1:
                    raise TaintError("expat event log: character data without its text")
                if self.buffer is None:
                    handler = handlers.get("CharacterDataHandler")
                    if handler is not None:
                        handler(strs[j])
                else:
                    self._buffered(strs[j], at)
                j += 1
            elif kind == _EV_START:
                if k < 1 or not k & 1:
                    raise TaintError("expat event log: an attribute without a value")
                handler = handlers.get("StartElementHandler")
                if handler is not None:
                    if self.buffer:
                        handler = self._flushed("StartElementHandler")
                    if k == 1:
                        attrs: Any = [] if self.ordered_attributes else {}
                    elif self.ordered_attributes:
                        attrs = strs[j + 1:j + k]
                    else:
                        items = iter(strs[j + 1:j + k])
                        attrs = dict(zip(items, items))
                    if handler is not None:
                        handler(strs[j], attrs)
                j += k
            elif kind == _EV_END:
                if k != 1:
                    raise TaintError("expat event log: an end element without its name")
                handler = handlers.get("EndElementHandler")
                if handler is not None:
                    if self.buffer:
                        handler = self._flushed("EndElementHandler")
                    if handler is not None:
                        handler(strs[j])
                j += 1
            else:
                name, args = self._other(kind, k, strs, j, self.records[at + 5])
                j += k
                handler = handlers.get(name)
                if handler is not None:
                    if self.buffer:
                        handler = self._flushed(name)
                    if handler is not None:
                        handler(*args)

    def _buffered(self, text: str, at: int) -> None:
        """Batched character data with buffer_text on (its UTF-8 size is recorded)."""
        size = self.records[at + 5]
        if not len(text) <= size <= 4 * len(text):
            raise TaintError("expat event log: wrong character data length")
        self.characters(text, size)

    def _flushed(self, name: str) -> Handler | None:
        """Flush buffered text before another event, then that event's handler (the
        text's handler may have changed it)."""
        self.flush()
        return self.handlers.get(name)

    @staticmethod
    def _other(kind: int, k: int, strs: list[str], j: int, extra: int) -> tuple[str, list[Any]]:
        """The handler and arguments of an event other than start, end and text."""
        entry = _LOGGED.get(kind & 0xFF)
        if entry is None:
            raise TaintError(f"expat event log: unknown event kind {kind}")
        name, arity, has_int = entry
        mask = kind >> 8  # bit i: string argument i is NULL
        if not 0 <= mask < 1 << arity or k != arity - bin(mask).count("1"):
            raise TaintError(f"expat event log: bad record of kind {kind}")
        args: list[Any] = []
        for i in range(arity):
            if mask >> i & 1:
                args.append(None)
            else:
                args.append(strs[j])
                j += 1
        if has_int:
            if not -(1 << 31) <= extra < 1 << 31:
                raise TaintError(f"expat event log: {name} argument out of range")
            args.append(extra)
        return name, args

    def position(self, field: int, low: int) -> int | None:
        """A position recorded with the event being dispatched (None: not dispatching)."""
        if self.at < 0:
            return None
        value = self.records[self.at + field]
        if not low <= value < 1 << 63:
            raise TaintError(f"expat event log: position {value} out of range")
        return value


# The event log's records (shim/event_log.h): fields per record, and the kinds
_FIELDS = 6
_EV_START, _EV_END, _EV_CHARS = 1, 2, 3
# other kinds -> (handler, number of string arguments (each may be NULL), int argument?)
_LOGGED: dict[int, tuple[str, int, bool]] = {
    4: ("ProcessingInstructionHandler", 2, False),
    5: ("CommentHandler", 1, False),
    6: ("StartCdataSectionHandler", 0, False),
    7: ("EndCdataSectionHandler", 0, False),
    8: ("StartNamespaceDeclHandler", 2, False),
    9: ("EndNamespaceDeclHandler", 1, False),
    10: ("XmlDeclHandler", 2, True),
    11: ("StartDoctypeDeclHandler", 3, True),
    12: ("EndDoctypeDeclHandler", 0, False),
    13: ("SkippedEntityHandler", 1, True),
}


def _weakly(events: _Events, method: str, *first: Any) -> Callable[..., Any]:
    """``events.method(*first, ...)`` through a weak reference: what the sandbox
    holds must not keep the handlers alive (they often reference the parser, which
    owns the sandbox: a cycle through the backend's callback table is never freed)."""
    ref = weakref.ref(events)
    fn = getattr(_Events, method)

    def callback(*args: Any) -> Any:
        target = ref()
        if target is None:
            raise PoisonedError("the expat parser was collected during a parse")
        return fn(target, *first, *args)
    return callback


# handler attribute -> (expat setter, callback type in the generated package,
# argument kinds for _Events.on_other, or None for the three specialized callbacks)
_HANDLERS: dict[str, tuple[str, str, str | None]] = {
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


def _handler_property(name: str) -> property:
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
        self._lib: Any = _open(backend, limits)
        self._max_input = max_input
        self._fed = 0
        self._parsing = False
        self._failed: ExpatError | None = None
        self._callbacks: dict[str, Any] = {}
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
        self._parser: TaintedPtr = parser
        # The salt keys expat's hash tables against collision floods; the sandbox has
        # no entropy of its own (see config/expat_config.h), so the host gives one.
        bits = 8 * lib.sandbox.model.size(Prim.ULONG)
        lib.XML_SetHashSalt(parser, secrets.randbits(bits) | 1)
        self._events = _Events(_Reader(lib, limits.memory_bytes))
        self._namespace_prefixes = False
        lib.XML_SetUnknownEncodingHandler(parser, lib.callback(
            _weakly(self._events, "on_unknown_encoding"), _generated().XML_UnknownEncodingHandler,
            "UnknownEncodingHandler"), None)
        self._log: TaintedPtr = lib.SBX_LogCreate(parser, lib.callback(
            _weakly(self._events, "on_batch"), _generated().SBX_LogFlush, "EventLog"))
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
            setter = getattr(self._lib, _HANDLERS[name][0])
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

    def _callback(self, name: str) -> Any:
        """The sandbox callback for ``name``, registered once per parser."""
        handle = self._callbacks.get(name)
        if handle is None:
            _, type_name, kinds = _HANDLERS[name]
            sig: Signature = getattr(_generated(), type_name)
            special = {"StartElementHandler": "on_start", "EndElementHandler": "on_end",
                       "CharacterDataHandler": "on_characters"}.get(name)
            fn = (_weakly(self._events, special) if special else
                  _weakly(self._events, "on_other", name, kinds))
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
            raise self._error(_XML_ERROR_NO_MEMORY if failed else self.ErrorCode)
        self._events.flush()
        return status

    def _error(self, code: int, message: str | None = None) -> ExpatError:
        """An ExpatError like pyexpat's: "<XML_ErrorString>: line L, column C"."""
        line, column = self.ErrorLineNumber, self.ErrorColumnNumber
        if message is None:
            message = _error_string(self._lib, code)
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
    def sandbox(self) -> Any:
        """The parser's sandbox (``sandboxlib.Sandbox``)."""
        return self._lib.sandbox

    def close(self) -> None:
        """Free the parser and its sandbox now (otherwise when it is collected)."""
        self._finalizer()

    def __enter__(self) -> XMLParserType:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


for _name in _HANDLERS:
    setattr(XMLParserType, _name, _handler_property(_name))


def _release(lib: Any, parser: TaintedPtr) -> None:
    """Close the sandbox (and all of expat's memory with it); on the native backend
    expat's parser lives in the process heap, so it is freed first."""
    try:
        if not lib.sandbox.isolated and lib.sandbox.poisoned is None:
            lib.XML_ParserFree(parser)
    except SandboxError:
        pass
    finally:
        lib.close()


def _error_string(lib: Any, code: int) -> str:
    text = lib.helpers.XML_ErrorString(code)
    if text is None:
        return f"unknown error {code}"
    message = _decode(text.unverified_safe_because("decoded strictly"), "error string")
    if not message.isprintable():
        raise TaintError(f"expat error string {message!r} is not printable text")
    return message


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


def ErrorString(code: int, *, backend: str | None = None) -> str | None:
    """expat's message for an error code (None for an unknown one), as pyexpat's."""
    with _open(backend, None) as lib:
        if lib.XML_ErrorString(code).is_null():
            return None
        return _error_string(lib, code)


def expat_version(backend: str | None = None) -> str:
    """``XML_ExpatVersion()`` of the sandboxed library, e.g. "expat_2.5.0"."""
    with _open(backend, None) as lib:
        text = lib.helpers.XML_ExpatVersion()
        if text is None:
            raise TaintError("XML_ExpatVersion() returned NULL")
        version = _decode(text.unverified_safe_because("decoded strictly"), "version")
        if not version.isprintable():
            raise TaintError(f"expat version {version!r} is not printable")
        return version
