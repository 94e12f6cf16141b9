"""sandboxlib.wrapped.expat against CPython's pyexpat (the same expat 2.5.0): identical events,
errors and positions, fed whole or in odd chunks; hostile input (malformed,
truncated, oversized, entity and memory bombs) cannot hurt the host."""

from __future__ import annotations

import gc
import io
import random
import struct
import weakref
import xml.parsers.expat as pyexpat
from typing import Any

import pytest
from conftest import ALL_BACKENDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandboxlib.wrapped.expat as wx
from sandboxlib import (BoundsError, Limits, PoisonedError, SandboxError, TaintError, Tainted,
                        TaintedPtr, TrapError)
from sandboxlib.backends import BACKENDS
from sandboxlib.wrapped.expat import _package

XBACKENDS = [b for b in ALL_BACKENDS if b in BACKENDS]
ISOLATING = [b for b in XBACKENDS if b != "native"]

HANDLERS = ["StartElementHandler", "EndElementHandler", "CharacterDataHandler",
            "ProcessingInstructionHandler", "CommentHandler", "StartCdataSectionHandler",
            "EndCdataSectionHandler", "StartNamespaceDeclHandler", "EndNamespaceDeclHandler",
            "XmlDeclHandler", "StartDoctypeDeclHandler", "EndDoctypeDeclHandler",
            "SkippedEntityHandler"]

Event = tuple[Any, ...]


@pytest.fixture(scope="module", params=XBACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend sandboxlib has (wasm2c only where it exists)."""
    return str(request.param)


def make(module: Any, backend: str, **kwargs: Any) -> Any:
    """A parser of ``module`` (pyexpat, or sandboxlib.wrapped.expat on ``backend``)."""
    if module is pyexpat:
        kwargs.pop("max_input", None)
        kwargs.pop("limits", None)
        return pyexpat.ParserCreate(**kwargs)
    return wx.ParserCreate(backend=backend, **kwargs)


def record(parser: Any, log: list[Event], names: list[str] = HANDLERS) -> None:
    for name in names:
        setattr(parser, name, lambda *args, _n=name: log.append((_n, *args)))


def error_of(exc: BaseException) -> Event:
    if isinstance(exc, pyexpat.ExpatError):
        return ("ExpatError", str(exc), exc.code, exc.lineno, exc.offset)
    return (type(exc).__name__, str(exc))


def run(module: Any, backend: str, doc: bytes | str, chunk: int | None = None,
        options: dict[str, Any] | None = None, **kwargs: Any) -> list[Event]:
    """Every event, then the outcome (an error, or the results of Parse)."""
    parser = make(module, backend, **kwargs)
    for key, value in (options or {}).items():
        setattr(parser, key, value)
    log: list[Event] = []
    record(parser, log)
    try:
        if chunk is None:
            log.append(("result", parser.Parse(doc, True)))
        else:
            for i in range(0, len(doc), chunk):
                log.append(("result", parser.Parse(doc[i:i + chunk], False)))
            log.append(("result", parser.Parse(b"" if isinstance(doc, bytes) else "", True)))
    except pyexpat.ExpatError as exc:
        log.append(error_of(exc))
    except Exception as exc:  # raised by a handler: the sandboxed parser is now unusable
        log.append(error_of(exc))
        return log
    log.append(("position", parser.ErrorCode, parser.ErrorLineNumber, parser.ErrorColumnNumber,
                parser.ErrorByteIndex))
    return log


def same(backend: str, doc: bytes | str, chunk: int | None = None, **kwargs: Any) -> list[Event]:
    expected = run(pyexpat, backend, doc, chunk, **kwargs)
    got = run(wx, backend, doc, chunk, **kwargs)
    assert got == expected
    return got


# -- a corpus of documents ----------------------------------------------------------


def _deep(depth: int) -> bytes:
    return (b"".join(b"<n%d a='%d'>" % (i % 7, i) for i in range(depth)) + b"t"
            + b"".join(b"</n%d>" % (i % 7) for i in reversed(range(depth))))


def _large_text(size: int) -> bytes:
    rng = random.Random(3)
    words = ["alpha", "beta", "caf\u00e9", "\u4e2d\u6587", "x" * 30] * 4 + ["&amp;", "&#x1F600;"]
    out: list[str] = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(12)) + ("\n" if rng.random() < .7 else "")
        out.append(line)
        total += len(line.encode())
    return b"<big>" + "".join(out).encode() + b"</big>"


CORPUS: dict[str, bytes] = {
    "minimal": b"<a/>",
    "namespaces": (b"<r xmlns='urn:default' xmlns:p='urn:p' p:attr='1' plain='2'>"
                   b"<p:c xmlns:q='urn:q' q:x='y'><q:d/></p:c>"
                   b"<e xmlns=''><f/></e><p:g xmlns:p='urn:other'/></r>"),
    "entities": (b"<!DOCTYPE r [<!ENTITY e 'en&amp;tity'><!ENTITY n '&e;-&e;'>]>"
                 b"<r a='&lt;&gt;&amp;&apos;&quot;&#65;&#x1F600;&n;'>"
                 b"&lt;&gt;&amp;&apos;&quot; &#233;&#x4E2D; &e; &n;</r>"),
    "cdata_comments_pis": (b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                           b"<?top data?><!-- before --><r><![CDATA[<not> &a; ]] ]>]]>"
                           b"<!----><?pi?><?pi with data ?><![CDATA[]]><!-- x - y --></r>"
                           b"<!-- after --><?end?>"),
    "doctype_skipped": (b"<?xml version='1.0' standalone='no'?>"
                        b"<!DOCTYPE r SYSTEM 'r.dtd'><r>&undeclared;</r>"),
    "whitespace": b"<r>\r\n  <a>\n\t x \r y </a>  \r</r>\n",
    "utf8": ("<r\u00e9 \u540d='\u503c' a='\U0001F600'>\u00e9\u4e2d\U0001F600"
             "<\u00fc\u00df/>\u0394</r\u00e9>").encode(),
    "attributes": (b"<r " + b" ".join(b"a%d='v%d&amp;%s'" % (i, i, b"x" * (i % 40))
                                       for i in range(300)) + b"/>"),
    "deep": _deep(1000),
    "latin1": "<?xml version='1.0' encoding='iso-8859-1'?><r a='\u00e9'>\u00fc\u00df</r>".encode(
        "latin-1"),
    "utf16": "<?xml version='1.0' encoding='utf-16'?><r a='\u00e9'>\u4e2d</r>".encode("utf-16"),
}
LARGE = _large_text(1 << 20)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_identical_to_pyexpat(backend: str, name: str) -> None:
    doc = CORPUS[name]
    same(backend, doc)
    same(backend, doc, chunk=7 if len(doc) < 20000 else 997)
    same(backend, doc, chunk=1 if len(doc) < 2000 else 4093)


def test_namespaces_identical_to_pyexpat(backend: str) -> None:
    doc = CORPUS["namespaces"]
    for sep in [" ", "}", "", "|"]:
        events = same(backend, doc, namespace_separator=sep)
        same(backend, doc, chunk=5, namespace_separator=sep)
        same(backend, doc, namespace_separator=sep, options={"namespace_prefixes": True})
    assert ("StartNamespaceDeclHandler", "p", "urn:p") in events


def test_large_text_identical_to_pyexpat(backend: str) -> None:
    """1 MiB of text: more than one of Parse()'s 1 MiB steps, and buffer_text."""
    same(backend, LARGE + b"<!-- pad -->" * 100)
    same(backend, LARGE, chunk=65537)
    events = same(backend, LARGE, options={"buffer_text": True})
    assert max(len(e[1]) for e in events if e[0] == "CharacterDataHandler") <= 8192


@pytest.mark.parametrize("options", [{"buffer_text": True}, {"ordered_attributes": True},
                                     {"buffer_text": True, "buffer_size": 10}])
def test_options_identical_to_pyexpat(backend: str, options: dict[str, Any]) -> None:
    for name in ["entities", "cdata_comments_pis", "whitespace", "utf8", "attributes"]:
        same(backend, CORPUS[name], options=options)
        same(backend, CORPUS[name], chunk=3, options=options)


def test_str_input_and_encoding_argument(backend: str) -> None:
    same(backend, CORPUS["utf8"].decode())
    same(backend, CORPUS["latin1"], encoding="iso-8859-1")
    same(backend, b"<r>\xe9</r>", encoding="iso-8859-1")


@pytest.mark.parametrize("encoding, doc", [
    ("cp1252", b"<r a='\x80'>\x80\xe9</r>"), ("koi8-r", b"<r>\xc1</r>"),
    (None, b"<?xml version='1.0' encoding='windows-1251'?><r>\xc0\x98</r>"),
    ("no-such-encoding", b"<r/>"), ("utf-32", b"<r/>")])
def test_encodings_from_python_codecs(backend: str, encoding: str | None, doc: bytes) -> None:
    """Encodings expat lacks come from Python's codecs (single-byte ones), as in pyexpat;
    an unknown one is pyexpat's LookupError, a multi-byte one its ValueError."""
    same(backend, doc, encoding=encoding)


def test_default_handler_identical_to_pyexpat(backend: str) -> None:
    for handler in ["DefaultHandler", "DefaultHandlerExpand"]:
        logs = []
        for module in (pyexpat, wx):
            log: list[Event] = []
            parser = make(module, backend)
            record(parser, log, [handler, "StartElementHandler"])
            parser.Parse(CORPUS["entities"] + b"", True)
            logs.append(log)
        assert logs[0] == logs[1]


def test_parse_file_identical_to_pyexpat(backend: str) -> None:
    for doc in [CORPUS["utf8"], CORPUS["deep"], LARGE[:100_000] + b"</big>"]:
        logs = []
        for module in (pyexpat, wx):
            log: list[Event] = []
            parser = make(module, backend)
            record(parser, log)
            log.append(("result", parser.ParseFile(io.BytesIO(doc))))
            logs.append(log)
        assert logs[0] == logs[1]
    parser = wx.ParserCreate(backend=backend)
    with pytest.raises(TypeError, match="bytes"):
        parser.ParseFile(io.StringIO("<a/>"))
    with pytest.raises(TypeError, match="read"):
        parser.ParseFile(b"<a/>")


def test_positions_inside_handlers(backend: str) -> None:
    """A handler may call back into the parser (a nested call into the sandbox)."""
    logs = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []
        parser.StartElementHandler = lambda name, attrs: log.append(
            (name, parser.CurrentLineNumber, parser.CurrentColumnNumber, parser.CurrentByteIndex))
        parser.Parse(b"<a>\n  <b>\n<c/></b>\n</a>", True)
        logs.append(log)
    assert logs[0] == logs[1]


def test_memory_growing_under_the_reader(backend: str) -> None:
    """A handler that makes the sandbox's memory grow (and perhaps move) between
    events: later events are still read correctly (windows are per event)."""
    doc = b"<r>" + b"".join(b"<e a='%d'>text %d</e>" % (i, i) for i in range(200)) + b"</r>"
    logs = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []
        record(parser, log, ["EndElementHandler", "CharacterDataHandler"])
        kept = []

        def start(name: str, attrs: dict[str, str]) -> None:
            log.append((name, attrs))
            if module is wx and len(log) % 40 == 0:
                kept.append(parser.sandbox.alloc(1 << 20))  # grows memory by 1 MiB
        parser.StartElementHandler = start
        parser.Parse(doc, True)
        logs.append(log)
    assert logs[0] == logs[1]


def test_handlers_changed_while_parsing(backend: str) -> None:
    logs = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            log.append(("start", name))
            if name == "b":
                parser.EndElementHandler = None
                parser.CharacterDataHandler = lambda text: log.append(("text", text))
            if name == "d":
                parser.EndElementHandler = lambda name: log.append(("end", name))
        parser.StartElementHandler = start
        parser.EndElementHandler = lambda name: log.append(("end", name))
        parser.Parse(b"<a>x<b>y</b>z<c/><d>w</d></a>", True)
        logs.append(log)
    assert logs[0] == logs[1]


def test_options_changed_while_parsing(backend: str) -> None:
    """buffer_text and ordered_attributes switched by handlers in the middle of a batch:
    the compiled fast lane of the dispatch hands over to the checked one and back."""
    logs = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []

        def start(name: str, attrs: Any) -> None:
            log.append(("start", name, attrs, parser.CurrentLineNumber))
            if name == "on":
                parser.buffer_text = True
                parser.ordered_attributes = True
            if name == "off":
                parser.buffer_text = False
                parser.ordered_attributes = False
        parser.StartElementHandler = start
        parser.EndElementHandler = lambda name: log.append(("end", name))
        parser.CharacterDataHandler = lambda text: log.append(("text", text))
        parser.Parse(b"<r a='1'>x\n<on b='2' c='3'>y<i k='v'/>z\nw</on>"
                     b"<off d='4'>q<j e='5'/>s</off>t</r>", True)
        logs.append(log)
    assert logs[0] == logs[1]


def test_batches_and_positions_across_many_events(backend: str) -> None:
    """More events than one batch of the event log holds, and text longer than its
    text buffer: the events, and the positions handlers see, are pyexpat's."""
    doc = (b"<r>" + b"".join(b"<e a='%d'>t%d\n</e>" % (i, i) for i in range(5000))
           + b"<big>" + b"y" * 200_000 + b"</big></r>")
    logs = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []

        def add(*event: Any, _p: Any = parser, _log: list[Event] = log) -> None:
            _log.append((*event, _p.CurrentLineNumber, _p.CurrentColumnNumber,
                         _p.CurrentByteIndex))
        parser.StartElementHandler = lambda name, attrs: add("start", name, attrs)
        parser.EndElementHandler = lambda name: add("end", name)
        parser.CharacterDataHandler = lambda text: add("text", len(text))
        log.append(("result", parser.Parse(doc[:70_000], False)))
        log.append(("result", parser.Parse(doc[70_000:], True)))
        log.append(("after", parser.CurrentLineNumber, parser.CurrentByteIndex))
        logs.append(log)
    assert logs[0] == logs[1]


def test_default_handler_set_and_unset_between_parse_calls(backend: str) -> None:
    """A default handler takes the per-event path, the others the event log: parsing
    switches between them from one Parse() to the next."""
    logs = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []
        record(parser, log, ["StartElementHandler", "CharacterDataHandler"])
        log.append(("result", parser.Parse(b"<r><!-- c --><a>x&amp;</a>", False)))
        parser.DefaultHandler = lambda data: log.append(("default", data))
        log.append(("result", parser.Parse(b"<!-- d --><b>y&amp;</b><?pi?>", False)))
        parser.DefaultHandler = None
        parser.CommentHandler = lambda data: log.append(("comment", data))
        log.append(("result", parser.Parse(b"<!-- e --><c>z</c></r>", True)))
        logs.append(log)
    assert logs[0] == logs[1]


# -- generated documents ------------------------------------------------------------

_NAME = st.text("abcXYZ_\u00e9\u4e2d", min_size=1, max_size=6).filter(lambda s: not s[0].isdigit())
_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("<>&'\"\n\r\t"),
                max_size=30)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


@st.composite
def documents(draw: Any, depth: int = 0) -> str:
    name = draw(_NAME)
    attrs = draw(st.dictionaries(_NAME, _TEXT, max_size=4))
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 3 else 0))):
        kind = draw(st.sampled_from(["text", "element", "comment", "pi", "cdata", "ref"]))
        if kind == "text":
            parts.append(_escape(draw(_TEXT)))
        elif kind == "element":
            parts.append(draw(documents(depth + 1)))
        elif kind == "comment":
            parts.append(f"<!--{draw(_TEXT).replace('-', '_')}-->")
        elif kind == "pi":
            parts.append(f"<?p{draw(_NAME)} {draw(_TEXT).replace('?>', '')}?>")
        elif kind == "cdata":
            parts.append(f"<![CDATA[{draw(_TEXT).replace(']]>', '')}]]>")
        else:
            parts.append(draw(st.sampled_from(["&#233;", "&#x1F600;", "&lt;", "&amp;"])))
    attributes = "".join(f" {k}='{_escape(v)}'" for k, v in attrs.items())
    return f"<{name}{attributes}>{''.join(parts)}</{name}>"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(doc=documents(), chunk=st.integers(1, 64))
def test_generated_documents_identical(backend: str, doc: str, chunk: int) -> None:
    data = doc.encode()
    same(backend, data)
    same(backend, data, chunk=chunk)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(doc=documents(), cuts=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=3)),
                                      min_size=1, max_size=3))
def test_mutated_documents_identical(backend: str, doc: str, cuts: list[tuple[int, bytes]]) -> None:
    """Malformed input: the same events up to the same error at the same place."""
    data = bytearray(doc.encode())
    for at, junk in cuts:
        at %= len(data) + 1
        data[at:at + len(junk) % 2] = junk
    same(backend, bytes(data))


# -- malformed, truncated, oversized, bombs ------------------------------------------

MALFORMED = [b"<a><b></a>", b"<a>", b"<a b='1' b='2'/>", b"<a/><b/>", b"<a>&nope;</a>",
             b"<p:a/>", b"<a>\xff</a>", b"", b"<a x=1/>", b"<a><!-- -- --></a>",
             b"<?xml version='1.0'?><?xml version='1.0'?><a/>", b"<a>&#0;</a>",
             b"<a xmlns:p=''/>", b"<a>]]></a>", b"text"]


@pytest.mark.parametrize("doc", MALFORMED)
def test_malformed_errors_identical(backend: str, doc: bytes) -> None:
    events = same(backend, doc, namespace_separator=" ")
    assert any(e[0] == "ExpatError" for e in events)


def test_error_details_and_parser_state(backend: str) -> None:
    parser = wx.ParserCreate(backend=backend)
    with pytest.raises(wx.ExpatError) as info:
        parser.Parse(b"<a>\n  <b></c>", True)
    exc = info.value
    assert (exc.code, exc.lineno, exc.offset) == (7, 2, 7)  # XML_ERROR_TAG_MISMATCH
    assert str(exc) == "mismatched tag: line 2, column 7"
    assert isinstance(exc, SandboxError) and isinstance(exc, pyexpat.ExpatError)
    assert wx.error is wx.ExpatError
    assert (parser.ErrorCode, parser.ErrorLineNumber, parser.ErrorColumnNumber) == (7, 2, 7)
    with pytest.raises(wx.ExpatError, match="mismatched tag"):  # the error sticks, as in pyexpat
        parser.Parse(b"<x/>", True)


def test_truncated_documents(backend: str) -> None:
    doc = CORPUS["cdata_comments_pis"] + CORPUS["entities"][CORPUS["entities"].index(b"<r"):]
    for end in range(0, len(doc), 11):
        same(backend, doc[:end])


def test_oversized_input(backend: str) -> None:
    parser = wx.ParserCreate(backend=backend, max_input=10_000)
    parser.Parse(b"<a>" + b"x" * 9000, False)
    with pytest.raises(wx.ExpatError) as info:
        parser.Parse(b"y" * 2000, False)
    assert info.value.code == wx.XML_ERROR_INPUT_TOO_LARGE
    assert "max_input=10000" in str(info.value)
    with pytest.raises(wx.ExpatError):
        parser.Parse(b"</a>", True)
    with pytest.raises(wx.ExpatError):
        wx.ParserCreate(backend=backend, max_input=100).ParseFile(io.BytesIO(b"<a/>" * 100))
    assert wx.ParserCreate(backend=backend).Parse(b"<a/>", True) == 1


def _laughs(levels: int = 10, in_attribute: bool = False) -> bytes:
    entities = ["<!ENTITY lol0 'lol'>"] + [
        f"<!ENTITY lol{i} '{('&lol%d;' % (i - 1)) * 10}'>" for i in range(1, levels)]
    use = f"&lol{levels - 1};"
    body = f"<r a='{use}'/>" if in_attribute else f"<r>{use}</r>"
    return f"<!DOCTYPE r [{''.join(entities)}]>{body}".encode()


@pytest.mark.parametrize("in_attribute", [False, True])
def test_billion_laughs_is_stopped(backend: str, in_attribute: bool) -> None:
    """expat 2.5.0's amplification limit fires (after 8 MiB of expansion, with no
    character data handler to call for each piece of it), as in pyexpat."""
    names = [h for h in HANDLERS if h != "CharacterDataHandler"]
    outcomes = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []
        record(parser, log, names)
        with pytest.raises(pyexpat.ExpatError) as info:
            parser.Parse(_laughs(in_attribute=in_attribute), True)
        outcomes.append((log, error_of(info.value)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][1][2] == 43  # XML_ERROR_AMPLIFICATION_LIMIT_BREACH
    assert "amplification" in outcomes[1][1][1]
    assert wx.ParserCreate(backend=backend).Parse(b"<a/>", True) == 1


def test_billion_laughs_threshold_is_tunable(backend: str) -> None:
    """With a lower activation threshold the limit fires before a character data
    handler has been called for megabytes of expansion."""
    parser = wx.ParserCreate(backend=backend)
    parser.SetBillionLaughsProtection(max_amplification=50.0, activation_threshold=1 << 16)
    pieces: list[str] = []
    parser.CharacterDataHandler = pieces.append
    with pytest.raises(wx.ExpatError, match="amplification") as info:
        parser.Parse(_laughs(), True)
    assert info.value.code == 43
    assert sum(map(len, pieces)) < 1 << 17


@pytest.mark.parametrize("isolating", ISOLATING)
def test_memory_limit(isolating: str) -> None:
    """A document that needs more memory than the sandbox has is an ExpatError
    ("out of memory"); expat inside fails, the host does not."""
    limits = Limits(memory_bytes=8 << 20)
    parser = wx.ParserCreate(backend=isolating, limits=limits)
    with pytest.raises(wx.ExpatError, match="out of memory") as info:
        parser.Parse(b"<a b='", False)
        for _ in range(24):  # one unfinished token: expat must buffer all of it
            parser.Parse(b"x" * (1 << 20), False)
    assert info.value.code == 1  # XML_ERROR_NO_MEMORY
    parser = wx.ParserCreate(backend=isolating, limits=limits)
    with pytest.raises(wx.ExpatError, match="out of memory"):
        for i in range(100_000):  # open elements with long names: a growing tag stack
            parser.Parse(b"<%s>" % (b"n%d" % i).ljust(200, b"x"), False)
    assert wx.ParserCreate(backend=isolating, limits=limits).Parse(b"<a/>", True) == 1


@pytest.mark.parametrize("isolating", ISOLATING)
def test_event_log_out_of_memory(isolating: str) -> None:
    """Text expat has in memory but the event log has no room left to copy: an
    ExpatError ("out of memory"), nothing half-delivered."""
    parser = wx.ParserCreate(backend=isolating, limits=Limits(memory_bytes=4 << 20))
    pieces: list[str] = []
    parser.CharacterDataHandler = pieces.append
    with pytest.raises(wx.ExpatError, match="out of memory") as info:
        parser.Parse(b"<a>", False)
        parser.Parse(b"x" * 1_100_000, False)
    assert info.value.code == 1 and pieces == []


# -- handler exceptions, poisoning, lifecycle ----------------------------------------


class Boom(Exception):
    pass


def test_handler_exception_propagates_and_poisons(backend: str) -> None:
    logs = []
    for module in (pyexpat, wx):
        parser = make(module, backend)
        log: list[Event] = []
        record(parser, log, ["EndElementHandler", "CharacterDataHandler"])

        def start(name: str, attrs: dict[str, str]) -> None:
            log.append(("start", name))
            if name == "boom":
                raise Boom(name)
        parser.StartElementHandler = start
        with pytest.raises(Boom):
            parser.Parse(b"<a>x<b/>y<boom/>z<c/></a>", True)
        logs.append(log)
    assert logs[0] == logs[1]
    assert parser.sandbox.poisoned
    with pytest.raises(PoisonedError, match="create a new one"):
        parser.Parse(b"<a/>", True)
    fresh = wx.ParserCreate(backend=backend)
    assert fresh.Parse(b"<a/>", True) == 1


def test_parse_from_a_handler_is_refused(backend: str) -> None:
    parser = wx.ParserCreate(backend=backend)
    parser.StartElementHandler = lambda name, attrs: parser.Parse(b"<x/>", True)
    with pytest.raises(RuntimeError, match="already parsing"):
        parser.Parse(b"<a/>", True)
    with pytest.raises(PoisonedError):
        parser.Parse(b"<a/>", True)


def test_bad_arguments(backend: str) -> None:
    with pytest.raises(ValueError, match="at most one character"):
        wx.ParserCreate(namespace_separator="ab", backend=backend)
    with pytest.raises(TypeError):
        wx.ParserCreate(encoding="utf\0-8", backend=backend)
    parser = wx.ParserCreate(backend=backend)
    with pytest.raises(TypeError):
        parser.StartElementHandler = 42  # type: ignore[assignment]
    with pytest.raises(ValueError):
        parser.buffer_size = 0


def test_parsers_are_collected(backend: str) -> None:
    """A parser whose handlers reference it (the usual case) is freed with its sandbox."""
    sandboxes = []
    for _ in range(5):
        parser = wx.ParserCreate(backend=backend)

        class Owner:
            def __init__(self) -> None:  # (F821: pyflakes sees the del below, not the loop)
                self.parser = parser  # noqa: F821
                parser.StartElementHandler = self.start  # noqa: F821

            def start(self, name: str, attrs: dict[str, str]) -> None:
                pass
        Owner()
        parser.Parse(b"<a/>", True)
        sandboxes.append(weakref.ref(parser.sandbox))
        del parser
    gc.collect()
    assert all(ref() is None for ref in sandboxes)


def test_backend_from_environment(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setenv("SANDBOXLIB_BACKEND", backend)
    with wx.ParserCreate() as parser:
        assert parser.sandbox.backend.name == backend
        assert parser.Parse("<a/>", True) == 1


def test_error_strings_and_version(backend: str) -> None:
    for code in [1, 2, 7, 43]:
        assert wx.ErrorString(code, backend=backend) == pyexpat.ErrorString(code)
    assert wx.ErrorString(10_000, backend=backend) is None
    assert wx.expat_version(backend) == pyexpat.EXPAT_VERSION


# -- what the sandbox hands over is checked ------------------------------------------


@pytest.mark.parametrize("isolating", ISOLATING)
def test_reader_refuses_bad_pointers_and_lengths(isolating: str) -> None:
    parser = wx.ParserCreate(backend=isolating)
    reader = parser._events.reader
    memory = parser.sandbox.memory
    size = memory.size
    window = reader.window()
    with pytest.raises(BoundsError):
        reader.text(window, TaintedPtr(size + 5, memory), "test")
    with pytest.raises(TaintError):
        reader.data(window, TaintedPtr(16, memory), Tainted(size * 2), "test")
    with pytest.raises(BoundsError):
        reader.data(window, TaintedPtr(size - 4, memory), Tainted(100), "test")
    tail = size - 8  # a pointer array that runs off the end of memory, no terminator
    memory.write(tail, b"\x10\x00\x00\x00" * 2)
    with pytest.raises(BoundsError):
        reader.strings(window, TaintedPtr(tail, memory), "test")
    memory.write(tail, b"\xff" * 8)  # a string without NUL at the very end
    with pytest.raises(BoundsError):
        reader.text(window, TaintedPtr(tail, memory), "test")
    memory.write(64, b"\xff\xfe\x00")
    with pytest.raises(TaintError, match="UTF-8"):
        reader.text(window, TaintedPtr(64, memory), "test")


@pytest.mark.parametrize("isolating", ISOLATING)
def test_corrupt_event_log_is_refused(isolating: str) -> None:
    """Every count, kind, length and pointer of the event log is checked before use: a
    corrupt batch is a SandboxError, nothing of it reaches a handler."""
    parser = wx.ParserCreate(backend=isolating)
    got: list[Event] = []
    parser.StartElementHandler = lambda *args: got.append(args)
    memory = parser.sandbox.memory
    base = parser.sandbox.alloc(4096).address

    def batch(records: list[list[int]], text: bytes, count: int | None = None,
              where: int = base) -> None:
        memory.write(base, struct.pack(f"<{len(records) * 6}q", *sum(records, [])))
        memory.write(base + 2048, text)
        parser._events.on_batch(Tainted(len(records) if count is None else count),
                                TaintedPtr(where, memory), Tainted(len(text)),
                                TaintedPtr(base + 2048, memory))

    batch([[1, 1, 0, 0, 3, 0]], b"a\0k\0v\0")
    assert got == [("a", {"k": "v"})]
    for records, text in [([[1, 1, 0, 0, 2, 0]], b"a\0k\0"),         # attribute, no value
                          ([[1, 1, 0, 0, 1, 0]], b"a\0b\0"),         # a string left over
                          ([[1, 1, 0, 0, 1, 0]], b""),               # a string missing
                          ([[2, 1, 0, 0, 1, 0]], b"a"),              # no terminator
                          ([[3, 1, 0, 0, 1, 2]], b"\xff\xfe\0"),     # not UTF-8
                          ([[99, 1, 0, 0, 0, 0]], b""),              # unknown kind
                          ([[10 | 4 << 8, 1, 0, 0, 2, 0]], b"a\0b\0"),  # NULL mask too wide
                          ([[1, 1, 0, 0, -1, 0], [2, 1, 0, 0, 2, 0]], b"a\0")]:  # negative
        with pytest.raises(TaintError):
            batch(records, text)
    with pytest.raises(TaintError):
        batch([[1, 1, 0, 0, 1, 0]], b"a\0", count=1 << 40)
    with pytest.raises(BoundsError):
        batch([[1, 1, 0, 0, 1, 0]], b"a\0", where=memory.size - 8)
    assert got == [("a", {"k": "v"})]


@pytest.mark.parametrize("isolating", ISOLATING)
def test_no_entropy_in_the_sandbox(isolating: str) -> None:
    """The module imports nothing; a parser the host gave no salt traps instead of
    hashing with a guessable one."""
    lib = _package.sandbox(isolating)
    assert not lib.sandbox.library.wasm_module().read_bytes().count(b"wasi_snapshot_preview1")
    parser = lib.XML_ParserCreate(None)
    with pytest.raises(TrapError):
        lib.helpers.XML_Parse(parser, b"<a/>", 1)
    lib.close()
