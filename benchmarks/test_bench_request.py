"""Request-sized work with a fresh sandbox per request (pytest-benchmark, one group per
library): a 179 KiB zlib decompress (CPython's zlib, a fresh ``decompressobj()`` and the
reused sandbox on each isolating backend), a 64 KiB lz4 block (python-lz4 or the native
backend, a fresh sandbox, the reused one) and a 64 KiB XML parse with handlers (pyexpat,
a new parser on each isolating backend). No thresholds: the asserts only check the
results. ``python -m sandboxlib.wrapped.zlib.bench`` prints the zlib medians
interleaved, with the page faults each request takes."""

from __future__ import annotations

import functools
import xml.parsers.expat as pyexpat
import zlib
from typing import Any

import pytest

from sandboxlib.bench import ISOLATING
from sandboxlib.wrapped import expat
from sandboxlib.wrapped.expat.bench import REQUEST_BYTES, make_document, parse_with
from sandboxlib.wrapped.lz4 import bench as lz4_bench
from sandboxlib.bench.payloads import text_like as make_payload
from sandboxlib.wrapped.zlib.bench import LEVEL, REQUEST_SIZE, request_ops

DATA = make_payload(REQUEST_SIZE)
PACKED = zlib.compress(DATA, LEVEL)
CONTENDERS = [("cpython", "cpython"),
              *((backend, op) for backend in ISOLATING for op in ("fresh", "reused"))]
IDS = [f"{b}-{o}" if b != o else b for b, o in CONTENDERS]


@pytest.mark.parametrize(("backend", "op"), CONTENDERS, ids=IDS)
def test_decompress_request(benchmark: Any, backend: str, op: str) -> None:
    benchmark.group = "zlib_request_179KiB"
    run = request_ops(ISOLATING[0] if backend == "cpython" else backend, PACKED)[op]
    assert benchmark(run) == DATA


BLOCK = lz4_bench.make_blocks(1, lz4_bench.REQUEST_SIZE)[0]


@pytest.mark.parametrize(("backend", "op"), CONTENDERS, ids=IDS)
def test_lz4_request(benchmark: Any, backend: str, op: str) -> None:
    benchmark.group = "lz4_request_64KiB"
    ops = lz4_bench.request_ops(ISOLATING[0] if backend == "cpython" else backend, BLOCK)
    assert benchmark(ops["base" if op == "cpython" else op]) == BLOCK


DOC = make_document(REQUEST_BYTES)


@pytest.mark.parametrize("backend", ["pyexpat", *ISOLATING])
def test_expat_request(benchmark: Any, backend: str) -> None:
    benchmark.group = "expat_request_64KiB"
    create = (pyexpat.ParserCreate if backend == "pyexpat"
              else functools.partial(expat.ParserCreate, backend=backend))
    counter = benchmark(parse_with, create, DOC)
    assert counter.starts == counter.ends > 1000
