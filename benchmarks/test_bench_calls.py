"""Per-call and per-sandbox costs (pytest-benchmark), compared within each group.

Run with ``make bench``. Groups: call_trivial, call_bytes_in_string_out, callback_round_trip,
sandbox_create. Baselines in the same run: the native function called through
cffi directly, wasmtime-py driven by hand, and a native process spawned per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandboxlib.backends import BACKENDS
from sandboxlib.bench.workloads import (call_ops, create_op, raw_cffi_op, raw_wasmtime_ops,
                                         spawn_op)


@pytest.fixture(scope="module", params=BACKENDS)
def ops(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    found, close = call_ops(request.param)
    yield found
    close()


@pytest.mark.parametrize("name", ["call_trivial", "call_bytes_in_string_out",
                                  "callback_round_trip"])
def test_call(benchmark: Any, ops: dict[str, Any], name: str) -> None:
    benchmark.group = name
    benchmark(ops[name])


def test_call_trivial_raw_cffi(benchmark: Any) -> None:
    benchmark.group = "call_trivial"
    benchmark(raw_cffi_op())


def test_call_trivial_raw_wasmtime_py(benchmark: Any) -> None:
    benchmark.group = "call_trivial"
    benchmark(raw_wasmtime_ops()["call_trivial"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_sandbox_create(benchmark: Any, backend: str) -> None:
    benchmark.group = "sandbox_create"
    benchmark(create_op(backend))


def test_sandbox_create_raw_wasmtime_py(benchmark: Any) -> None:
    benchmark.group = "sandbox_create"
    benchmark(raw_wasmtime_ops()["sandbox_create"])


def test_process_per_call(benchmark: Any) -> None:
    benchmark.group = "sandbox_create"
    benchmark.pedantic(spawn_op(), rounds=50, iterations=1)
