"""pytest-benchmark: parse a 10 MiB document with start/end/character-data handlers,
CPython's pyexpat (the baseline) against sandboxed expat on each backend. No
thresholds: compare the rows of the group (``pytest benchmarks/test_bench_expat.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxlib.wrapped.expat.bench import contenders, make_document, parse_with

CONTENDERS = contenders()


@pytest.fixture(scope="module")
def document() -> bytes:
    return make_document()


@pytest.fixture(scope="module")
def expected(document: bytes) -> dict[str, int]:
    return vars(parse_with(CONTENDERS["pyexpat"], document))


@pytest.mark.parametrize("name", list(CONTENDERS))
def test_parse_10mib_with_handlers(benchmark: Any, document: bytes, expected: dict[str, int],
                                   name: str) -> None:
    benchmark.group = "expat: parse 10 MiB, start/end/chardata handlers"
    benchmark.extra_info["baseline"] = "pyexpat"
    counter = benchmark.pedantic(parse_with, args=(CONTENDERS[name], document), rounds=3,
                                 iterations=1, warmup_rounds=1)
    assert vars(counter) == expected
