"""sandboxlib end to end: build, wrap, run sandboxed vs native, compare.

Run with ``make demo``. Every step is real: the C sources in c_src/ and the pinned
zlib and expat sources are compiled to wasm32 with the pip-installed zig compiler,
to C with wasm2c, and natively with cffi; nothing is mocked.
"""

from __future__ import annotations

import statistics
import struct
import sys
import time
import xml.parsers.expat as pyexpat
import zlib
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sandboxlib.wrapped.expat as sandboxed_expat  # noqa: E402
import sandboxlib.wrapped.zlib as sandboxed_zlib  # noqa: E402
from libs import hostile_library, sample_library  # noqa: E402

from sandboxlib import Prim, Sandbox, Signature, Tainted, TrapError  # noqa: E402
from sandboxlib.backends import BACKENDS  # noqa: E402

ISOLATING = [b for b in BACKENDS if b != "native"]


def shown(value: Any) -> str:
    if isinstance(value, Tainted):
        value = value.unverified_safe_because("printed by the demo")
    return repr(value)


def median_seconds(fn: Callable[[], object], rounds: int = 5) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def per_call_us(fn: Callable[[], object], seconds: float = 0.2) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            fn()
        n += 200
    return (time.perf_counter() - start) / n * 1e6


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 74 - len(text)))


# -- 1. the sample library, on every backend ---------------------------------------
def sample_calls(sb: Sandbox) -> list[tuple[str, str]]:
    data = bytes(range(256)) * 256
    values = sb.copy_in(struct.pack("=5i", 1, 2, 3, 4, 5))
    multiply = sb.callback(lambda a, b: a.verify(lambda v: abs(v) < 1 << 20) *
                           b.verify(lambda v: abs(v) < 1 << 20),
                           Signature((Prim.INT, Prim.INT), Prim.INT), "multiply")
    return [
        ("sample_add(2, 3)", shown(sb.sample_add(2, 3))),
        ("sample_inc_u32(0xffffffff)", shown(sb.sample_inc_u32(0xFFFFFFFF))),
        ("sample_hypot(3.0, 4.0)", shown(sb.sample_hypot(3.0, 4.0))),
        ('sample_greet("world")', shown(sb.sample_greet("world").copy_string(max_len=100))),
        ("sample_checksum(64 KiB)", shown(sb.sample_checksum(data, len(data)))),
        ("sample_fold([1..5], multiply)", shown(sb.sample_fold(values, 5, multiply, 1))),
        ("sizeof(long) in the library", str(sb.model.size(Prim.LONG))),
    ]


def sample_section() -> None:
    heading("the sample library (c_src/sample): the same proxy on every backend")
    lib = sample_library()
    rows: dict[str, list[tuple[str, str]]] = {}
    timing: dict[str, tuple[float, float]] = {}
    for backend in BACKENDS:
        with lib.sandbox(backend) as sb:
            rows[backend] = sample_calls(sb)
            add = sb.sample_add
            call = per_call_us(lambda: add(2, 3))
        timing[backend] = (call, per_call_us(lambda: lib.sandbox(backend).close()))
    width = max(len(name) for name, _ in rows[BACKENDS[0]]) + 2
    print(f"{'call':<{width}}" + "".join(f"{b:<18}" for b in BACKENDS))
    for i, (name, _) in enumerate(rows[BACKENDS[0]]):
        print(f"{name:<{width}}" + "".join(f"{rows[b][i][1]:<18}" for b in BACKENDS))
    print(f"{'trivial call, µs':<{width}}" + "".join(f"{timing[b][0]:<18.2f}" for b in BACKENDS))
    print(f"{'new sandbox, µs':<{width}}" + "".join(f"{timing[b][1]:<18.1f}" for b in BACKENDS))


# -- 2. zlib: untrusted compressed data, decoded in a sandbox -----------------------
def zlib_section() -> None:
    heading("sandboxlib.wrapped.zlib (zlib 1.2.13, fetched pinned): sandboxed vs Python's zlib")
    text = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                    for i in range(20000))
    packed = zlib.compress(text, 6)
    print(f"input: {len(text)} bytes of text, {len(packed)} compressed")
    print(f"{'backend':<10}{'same bytes':<12}{'compress ms':>12}{'× zlib':>8}"
          f"{'decompress ms':>15}{'× zlib':>8}")
    base_c = median_seconds(lambda: zlib.compress(text, 6))
    base_d = median_seconds(lambda: zlib.decompress(packed))
    print(f"{'python':<10}{'-':<12}{base_c * 1e3:>12.2f}{1:>8.2f}{base_d * 1e3:>15.2f}{1:>8.2f}")
    for backend in BACKENDS:
        same = (sandboxed_zlib.compress(text, 6, backend=backend) == packed and
                sandboxed_zlib.decompress(packed, backend=backend) == text)
        c = median_seconds(lambda: sandboxed_zlib.compress(text, 6, backend=backend))
        d = median_seconds(lambda: sandboxed_zlib.decompress(packed, backend=backend))
        print(f"{backend:<10}{str(same):<12}{c * 1e3:>12.2f}{c / base_c:>8.2f}"
              f"{d * 1e3:>15.2f}{d / base_d:>8.2f}")
    bomb = zlib.compress(bytes(256 << 20), 9)
    try:
        sandboxed_zlib.decompress(bomb, max_output=64 << 20)
    except sandboxed_zlib.error as exc:
        print(f"a {len(bomb)}-byte bomb (256 MiB of zeros), max_output=64 MiB: error: {exc}")
    try:
        sandboxed_zlib.decompress(packed[:-9])
    except sandboxed_zlib.error as exc:
        print(f"truncated input: error: {exc}")


# -- 3. expat: an untrusted XML document, parsed in a sandbox -----------------------
def parse_events(create: Callable[[], Any], doc: bytes) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    p = create()
    p.StartElementHandler = lambda name, attrs: events.append(("start", (name, attrs)))
    p.EndElementHandler = lambda name: events.append(("end", name))
    p.CharacterDataHandler = lambda data: events.append(("text", data))
    p.Parse(doc, True)
    return events


def expat_section() -> None:
    heading("sandboxlib.wrapped.expat (expat 2.5.0, fetched pinned): sandboxed vs Python's pyexpat")
    items = "".join(f'<item id="{i}" kind="k{i % 7}">value &amp; {i} <![CDATA[<raw>]]></item>'
                    for i in range(20000))
    doc = f'<?xml version="1.0"?><catalog xmlns="urn:demo">{items}</catalog>'.encode()
    expected = parse_events(pyexpat.ParserCreate, doc)
    base = median_seconds(lambda: parse_events(pyexpat.ParserCreate, doc), rounds=3)
    print(f"input: {len(doc)} bytes, {len(expected)} events; pyexpat {base * 1e3:.1f} ms")
    for backend in BACKENDS:
        def create(b: str = backend) -> Any:
            return sandboxed_expat.ParserCreate(backend=b)
        same = parse_events(create, doc) == expected
        t = median_seconds(lambda: parse_events(create, doc), rounds=3)
        print(f"  {backend:<10} identical events: {same}   {t * 1e3:8.1f} ms  "
              f"({t / base:.1f}× pyexpat)")
    try:
        sandboxed_expat.ParserCreate().Parse(b"<a><b>text</a>", True)
    except sandboxed_expat.ExpatError as exc:
        print(f"malformed input: ExpatError: {exc} (code {exc.code}, line {exc.lineno}, "
              f"column {exc.offset})")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' +
              b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10)
                       for i in range(8)) + b']><l>&i;</l>')
    try:
        sandboxed_expat.ParserCreate().Parse(laughs, True)
    except sandboxed_expat.ExpatError as exc:
        print(f"billion laughs: ExpatError: {exc}")


# -- 4. containment --------------------------------------------------------------
def containment_section() -> None:
    heading("containment: a hostile library reads far outside its memory")
    lib = hostile_library()
    for backend in ISOLATING:
        with lib.sandbox(backend) as victim, lib.sandbox(backend) as bystander:
            try:
                victim.hostile_read_far(0xFFFFFFF0)
            except TrapError as exc:
                print(f"  {backend}: TrapError: {exc}")
            print(f"  {backend}: victim poisoned: {victim.poisoned is not None}; a second sandbox"
                  f" still answers hostile_ok(21) = {shown(bystander.hostile_ok(21))}")
    print("  the host process is unharmed")


# -- 5. one fresh sandbox per request ---------------------------------------------
def per_request_section(requests: int = 400) -> None:
    heading(f"a sandbox per request: {requests} untrusted inputs, each in a fresh sandbox")
    good = [zlib.compress(b"request %d: " % i + bytes(range(256)) * 8) for i in range(requests)]
    inputs = [blob if i % 10 else blob[: len(blob) // 2] + b"garbage" for i, blob in
              enumerate(good)]
    for backend in ISOLATING:
        ok = failed = 0
        start = time.perf_counter()
        for blob in inputs:
            d = sandboxed_zlib.decompressobj(backend=backend, max_output=1 << 20)
            try:
                d.decompress(blob)
                d.flush()
                complete = d.eof
            except sandboxed_zlib.error:
                complete = False
            ok, failed = (ok + 1, failed) if complete else (ok, failed + 1)
        took = time.perf_counter() - start
        print(f"  {backend:<9} {requests / took:8.0f} requests/s ({took / requests * 1e6:.0f} µs "
              f"each incl. a new sandbox): {ok} decoded, {failed} rejected as corrupt")
    print("  (spawning a process per request costs ~0.8-0.9 ms before any work: see "
          "`sandboxlib bench`)")


def main() -> None:
    print("sandboxlib demo: C libraries in-process, isolated by WebAssembly")
    sample_section()
    zlib_section()
    expat_section()
    containment_section()
    per_request_section()


if __name__ == "__main__":
    main()
