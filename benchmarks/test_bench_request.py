"""A request-sized decompress (179 KiB out) with a fresh sandbox per request
(pytest-benchmark, group ``zlib_request_179KiB``): CPython's zlib, a fresh
``decompressobj()`` on each isolating backend, and the same backends' reused sandbox.
No thresholds: the asserts only check the bytes. ``python -m sandboxlib.wrapped.zlib.bench``
prints the same medians interleaved, with the page faults each request takes."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from sandboxlib.bench import ISOLATING
from sandboxlib.wrapped.zlib.bench import LEVEL, REQUEST_SIZE, make_payload, request_ops

DATA = make_payload(REQUEST_SIZE)
PACKED = zlib.compress(DATA, LEVEL)
CONTENDERS = [("cpython", "cpython"),
              *((backend, op) for backend in ISOLATING for op in ("fresh", "reused"))]


@pytest.mark.parametrize(("backend", "op"), CONTENDERS, ids=[f"{b}-{o}" if b != o else b
                                                             for b, o in CONTENDERS])
def test_decompress_request(benchmark: Any, backend: str, op: str) -> None:
    benchmark.group = "zlib_request_179KiB"
    run = request_ops(ISOLATING[0] if backend == "cpython" else backend, PACKED)[op]
    assert benchmark(run) == DATA
