"""Parse a 10 MiB XML document with start/end/character-data handlers, and with none:
sandboxed expat on each backend against CPython's ``pyexpat`` (the same expat, 2.5.0).

``measure()`` returns the median seconds per parse of each, measured in one run;
``bench_request`` a request-sized parse (64 KiB, the same handlers) with a new parser,
so a fresh sandbox, each time; ``workload`` adds them to ``sandboxlib bench``
(entry-point group ``sandboxlib.bench``); ``python -m sandboxlib.wrapped.expat.bench``
prints them.
"""

from __future__ import annotations

import functools
import statistics
import time
import xml.parsers.expat as pyexpat
from contextlib import ExitStack
from typing import Any, Callable

from sandboxlib.backends import BACKENDS
from sandboxlib.bench import ISOLATING, Record, interleaved_medians
from sandboxlib.bench.plugins import Case

from sandboxlib.wrapped import expat

DOC_BYTES = 10 << 20
REQUEST_BYTES = 64 << 10


def make_document(size: int = DOC_BYTES) -> bytes:
    """A catalogue of records (elements, attributes, text, an entity), ``size`` bytes or
    a little more."""
    parts = [b'<?xml version="1.0" encoding="utf-8"?>\n<catalog xmlns="urn:example:catalog">\n']
    total, i = len(parts[0]), 0
    while total < size:
        record = (f'  <item id="{i}" kind="{("book", "disc", "map")[i % 3]}" stock="{i % 17}">'
                  f'<title>Title number {i} &amp; more</title>'
                  f'<price currency="EUR">{i % 100}.{i % 97:02d}</price>'
                  f'<desc>Some descriptive text for item {i}, caf\u00e9 included.</desc>'
                  f'</item>\n').encode()
        parts.append(record)
        total += len(record)
        i += 1
    parts.append(b"</catalog>\n")
    return b"".join(parts)


class Counter:
    """The handlers: count events and characters (work a real consumer would do)."""

    def __init__(self) -> None:
        self.starts = self.ends = self.chars = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.starts += 1

    def end(self, name: str) -> None:
        self.ends += 1

    def data(self, text: str) -> None:
        self.chars += len(text)

    def install(self, parser: Any) -> None:
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data


def parse_with(create: Callable[[], Any], doc: bytes, handlers: bool = True) -> Counter:
    counter = Counter()
    parser = create()
    if handlers:
        counter.install(parser)
    parser.Parse(doc, True)
    close = getattr(parser, "close", None)
    if close is not None:
        close()
    return counter


def contenders() -> dict[str, Callable[[], Any]]:
    """How to create a parser: pyexpat, then sandboxed expat on every backend."""
    made: dict[str, Callable[[], Any]] = {"pyexpat": pyexpat.ParserCreate}
    for backend in BACKENDS:
        made[backend] = functools.partial(expat.ParserCreate, backend=backend)
    return made


def measure(rounds: int = 3, size: int = DOC_BYTES, handlers: bool = True) -> dict[str, float]:
    """Median seconds to parse the document, per contender: "pyexpat" and each
    backend's name. ``handlers=False`` parses with none (the library alone, no
    callbacks)."""
    doc = make_document(size)
    results: dict[str, float] = {}
    expected = parse_with(pyexpat.ParserCreate, doc, handlers)
    for name, create in contenders().items():
        got = parse_with(create, doc, handlers)  # warm-up (builds, JIT cache) and a check
        if vars(got) != vars(expected):
            raise AssertionError(f"{name}: events differ from pyexpat's: {vars(got)} != "
                                 f"{vars(expected)}")
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            parse_with(create, doc, handlers)
            samples.append(time.perf_counter() - start)
        results[name] = statistics.median(samples)
    return results


# measure()'s contenders -> the suite's backends: pyexpat is the reference ("native");
# the wrapper on the native backend (no isolation) is "native-backend"
SUITE_BACKENDS = {"pyexpat": "native", "native": "native-backend"}


def bench_request(rounds: int = 25) -> dict[str, float]:
    """Median seconds (interleaved) to parse a ``REQUEST_BYTES`` document with the
    handlers in a new parser: "pyexpat" and each isolating backend (a fresh sandbox per
    parse)."""
    doc = make_document(REQUEST_BYTES)
    made = {name: create for name, create in contenders().items()
            if name == "pyexpat" or name in ISOLATING}
    expected = vars(parse_with(pyexpat.ParserCreate, doc))
    for name, create in made.items():  # warm-up, and a check
        if vars(parse_with(create, doc)) != expected:
            raise AssertionError(f"{name}: events differ from pyexpat's")
    return interleaved_medians({name: functools.partial(parse_with, create, doc)
                                for name, create in made.items()}, rounds)


def workload(record: Record, quick: bool) -> None:
    """``sandboxlib bench``: ``expat_parse_10mib`` with handlers (the crossings) and
    ``expat_parse_10mib_bare`` without (the library's code alone), pyexpat and every
    backend; ``expat_request_fresh``, a 64 KiB parse in a new parser (so sandbox)."""
    for metric, handlers in (("expat_parse_10mib", True), ("expat_parse_10mib_bare", False)):
        for who, seconds in measure(rounds=1 if quick else 3, handlers=handlers).items():
            record(metric, SUITE_BACKENDS.get(who, who), seconds, "ms")
    for who, seconds in bench_request(rounds=9 if quick else 25).items():
        record("expat_request_fresh", SUITE_BACKENDS.get(who, who), seconds)


def creation_seconds(backend: str, n: int = 200) -> float:
    """Median seconds to create (and close) a parser on ``backend``."""
    expat.ParserCreate(backend=backend).close()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            expat.ParserCreate(backend=backend).close()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def main() -> None:
    for handlers in (True, False):
        results = measure(handlers=handlers)
        base, native = results["pyexpat"], results.get("native")
        print(f"parse {DOC_BYTES >> 20} MiB, {'start/end/chardata' if handlers else 'no'} "
              "handlers (median of 3):")
        for name, seconds in results.items():
            vs_native = f"  {seconds / native:5.2f}x native" if native else ""
            print(f"  {name:<10} {seconds * 1e3:9.1f} ms  {seconds / base:6.2f}x pyexpat"
                  f"{vs_native}")
    for backend in BACKENDS:
        print(f"  create+close a parser on {backend}: {creation_seconds(backend) * 1e6:.1f} us")


def corpus_case() -> Case:
    """``sandboxlib bench --corpus``: parse 2 MiB with no handlers (the library's own
    work), the native backend the baseline."""
    def prepare(backend: str, stack: ExitStack) -> Callable[[], dict[str, int]]:
        doc = make_document(2 << 20)
        create = functools.partial(expat.ParserCreate, backend=backend)
        return lambda: vars(parse_with(create, doc, handlers=False))
    return Case("expat_parse_2mib", "expat 2.5.0: parse a 2 MiB XML catalogue, no handlers",
                prepare)


if __name__ == "__main__":
    main()
