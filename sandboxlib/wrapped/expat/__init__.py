"""``xml.parsers.expat``'s API on expat 2.5.0 running in a sandbox.

```python
from sandboxlib.wrapped import expat
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

The modules: ``_parser`` (``XMLParserType``, ``ParserCreate``), ``_events`` (handler
state, the sandbox's callbacks, batch dispatch), ``_eventlog`` (the log's record
format), ``_reader`` (checked reads of sandbox memory), ``_package`` (the generated
package, typed by its generated stub ``_package.pyi``), ``_library`` (``ErrorString``,
``expat_version``), ``_errors`` (``ExpatError``, our codes);
``bench`` is this library's workload for ``sandboxlib bench``.
"""

from __future__ import annotations

from ._errors import XML_ERROR_INPUT_TOO_LARGE, ExpatError, error
from ._events import Handler  # noqa: F401 (offered beside __all__, as SPEC and the chunks)
from ._library import SPEC, ErrorString, expat_version  # noqa: F401
from ._parser import DEFAULT_MAX_INPUT, DEFAULT_MEMORY, ParserCreate, XMLParserType
from ._parser import FILE_CHUNK, MAX_CHUNK  # noqa: F401

__all__ = ["DEFAULT_MAX_INPUT", "DEFAULT_MEMORY", "ErrorString", "ExpatError",
           "XML_ERROR_INPUT_TOO_LARGE", "XMLParserType", "ParserCreate", "error",
           "expat_version"]
