"""Run the suite: medians per operation, ratios to native measured in the same run."""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

from ..backends import BACKENDS
from .workloads import Op, call_ops, create_op, raw_cffi_op, raw_wasmtime_ops, spawn_op

ISOLATING = [b for b in BACKENDS if b != "native"]


@dataclass
class Metric:
    name: str
    backend: str
    value: float
    unit: str
    ratio_vs_native: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def median_seconds(op: Op, budget: float = 0.25, rounds: int = 7) -> float:
    """Median time of one ``op`` over ``rounds`` batches sized to fill ``budget``."""
    op()
    n, start = 1, time.perf_counter()
    while True:
        for _ in range(n):
            op()
        took = time.perf_counter() - start
        if took > budget / rounds / 4 or n > 1 << 20:
            break
        n *= 4
        start = time.perf_counter()
    batch = max(1, int(n * (budget / rounds) / max(took, 1e-9)))
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            op()
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples)


Progress = Callable[[str], None]


def _stderr(line: str) -> None:
    print(f"bench: {line}", file=sys.stderr, flush=True)


def run_suite(quick: bool = True, progress: Progress = _stderr, bulk: bool = True) -> list[Metric]:
    """Measure every metric, and the wrapped real libraries unless ``bulk`` is off.

    Backends: for calls and sandbox creation ``native`` is the same proxy on the
    native backend (no isolation), ``cffi`` the native function called directly,
    ``wasmtime-py`` wasmtime driven by hand without sandboxlib, ``process`` a native
    helper spawned per call; for bulk work ``native`` is CPython's own module (the
    same zlib 1.2.13 / expat 2.5.0, natively) and ``native-backend`` the wrapper on
    the native backend."""
    budget = 0.25 if quick else 1.0
    metrics: list[Metric] = []

    def record(name: str, backend: str, seconds: float) -> None:
        value, unit = (seconds * 1e6, "us")
        metrics.append(Metric(name, backend, value, unit))
        progress(f"{name:<20} {backend:<12} {value:10.2f} {unit}")

    record("call_trivial", "cffi", median_seconds(raw_cffi_op(), budget))
    for backend in ["native", *ISOLATING]:
        ops, close = call_ops(backend)
        try:
            for name, op in ops.items():
                record(name, backend, median_seconds(op, budget))
        finally:
            close()
    raw = raw_wasmtime_ops()
    record("call_trivial", "wasmtime-py", median_seconds(raw["call_trivial"], budget))
    record("sandbox_create", "native", median_seconds(create_op("native"), budget))
    for backend in ISOLATING:
        record("sandbox_create", backend, median_seconds(create_op(backend), budget))
    record("sandbox_create", "wasmtime-py", median_seconds(raw["sandbox_create"], budget))
    record("sandbox_create", "process", median_seconds(spawn_op(), budget, rounds=5))
    if bulk:
        metrics += bulk_metrics(progress, quick)
    return with_ratios(metrics)


def bulk_metrics(progress: Progress, quick: bool) -> list[Metric]:
    """zlib 1 MiB compress/decompress and a 10 MiB expat parse with handlers, per
    backend, against CPython's modules measured in the same run."""
    from .expat_bulk import measure as parse_10mib
    from .zlib_bulk import bench_zlib
    rows: list[Metric] = []

    def record(name: str, backend: str, seconds: float) -> None:
        rows.append(Metric(name, backend, seconds * 1e3, "ms"))
        progress(f"{name:<20} {backend:<14} {seconds * 1e3:10.2f} ms")

    cpython: dict[str, list[float]] = {"compress": [], "decompress": []}
    for backend in ISOLATING:
        r = bench_zlib(backend, rounds=5 if quick else 9)
        record("zlib_compress_1mib", backend, r["compress"])
        record("zlib_decompress_1mib", backend, r["decompress"])
        cpython["compress"].append(r["cpython_compress"])
        cpython["decompress"].append(r["cpython_decompress"])
    for op, samples in cpython.items():
        record(f"zlib_{op}_1mib", "native", statistics.median(samples))
    for who, seconds in parse_10mib(rounds=1 if quick else 3).items():
        record("expat_parse_10mib", {"pyexpat": "native", "native": "native-backend"}.get(who, who),
               seconds)
    return rows


def with_ratios(metrics: list[Metric]) -> list[Metric]:
    """Fill ``ratio_vs_native``: each value over the native row of the same name."""
    native = {m.name: m.value for m in metrics if m.backend == "native"}
    for m in metrics:
        base = native.get(m.name)
        m.ratio_vs_native = None if m.backend == "native" or not base else m.value / base
    return metrics
