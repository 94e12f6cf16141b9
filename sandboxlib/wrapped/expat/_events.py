"""The events: per-parser handler state, the callbacks the sandbox calls (one per
event, or one per batch of the event log) and their dispatch to the handlers."""

from __future__ import annotations

import struct
import weakref
from array import array
from typing import Any, Callable

from sandboxlib import PoisonedError, TaintError, Tainted, TaintedPtr

from ._fastlane import run as fast_lane, setup as fast_lane_setup
from ._eventlog import EV_CHARS, EV_END, EV_START, FIELDS, LOGGED
from ._reader import Reader, decode

Handler = Callable[..., Any]


class Events:
    """Per-parser handler state and the sandbox callbacks. It holds no reference to
    the sandbox, so a parser nobody references is collected (and its sandbox with it)."""

    __slots__ = ("reader", "handlers", "ordered_attributes", "buffer", "buffer_used",
                 "buffer_size", "records", "at", "__weakref__")

    def __init__(self, reader: Reader) -> None:
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
        n = count.verify_range(0, reader.max_len // (FIELDS * 8))
        records_raw = reader.span(records, n * FIELDS * 8, "event records")
        blob = reader.span(text, text_len.verify_range(0, reader.max_len), "event text")
        if reader.swap:
            swapped = array("q", records_raw)
            swapped.byteswap()
            numbers = memoryview(swapped)
        else:
            numbers = memoryview(records_raw).cast("q")
        kinds, counts = numbers[0::FIELDS].tolist(), numbers[4::FIELDS].tolist()
        strs = decode(blob, "event text").split("\0")
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
        """Each event to its handler: runs of the common ones through the compiled fast
        lane (``_fastlane.c``), the others here, where every check is."""
        i, j = fast_lane(self, kinds, counts, strs, 0, 0)
        while i < len(kinds):
            j = self._dispatch_one(kinds[i], counts[i], strs, i * FIELDS, j)
            i, j = fast_lane(self, kinds, counts, strs, i + 1, j)

    def _dispatch_one(self, kind: int, k: int, strs: list[str], at: int, j: int) -> int:
        """Event ``kind`` (its record at ``at``, its ``k`` strings from ``strs[j]``) to
        its handler; where the next event's strings start."""
        handlers = self.handlers
        self.at = at
        if kind == EV_CHARS:
            if k != 1:
                raise TaintError("expat event log: character data without its text")
            if self.buffer is None:
                handler = handlers.get("CharacterDataHandler")
                if handler is not None:
                    handler(strs[j])
            else:
                self._buffered(strs[j], at)
            j += 1
        elif kind == EV_START:
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
        elif kind == EV_END:
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
        return j

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
        entry = LOGGED.get(kind & 0xFF)
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


fast_lane_setup(Events, EV_CHARS, EV_START, EV_END, FIELDS)


def weakly(events: Events, method: str, *first: Any) -> Callable[..., Any]:
    """``events.method(*first, ...)`` through a weak reference: what the sandbox
    holds must not keep the handlers alive (they often reference the parser, which
    owns the sandbox: a cycle through the backend's callback table is never freed)."""
    ref = weakref.ref(events)
    fn = getattr(Events, method)

    def callback(*args: Any) -> Any:
        target = ref()
        if target is None:
            raise PoisonedError("the expat parser was collected during a parse")
        return fn(target, *first, *args)
    return callback
