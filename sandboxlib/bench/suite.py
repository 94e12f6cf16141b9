"""Run the suite: medians per operation, ratios to native measured in the same run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from ..backends import BACKENDS
from ..progress import LOGGER
from .plugins import registered
from .timing import median_seconds
from .workloads import (call_ops, create_op, first_call_op, raw_cffi_op, raw_wasmtime_ops,
                        spawn_op)

ISOLATING = [b for b in BACKENDS if b != "native"]
UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


@dataclass
class Metric:
    name: str
    backend: str
    value: float
    unit: str
    ratio_vs_native: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


Progress = Callable[[str], None]


def _log(line: str) -> None:
    LOGGER.info("bench: %s", line)


def run_suite(quick: bool = True, progress: Progress = _log, bulk: bool = True) -> list[Metric]:
    """Measure every metric, then the workloads registered in the entry-point group
    ``sandboxlib.bench`` unless ``bulk`` is off (``plugins``: the wrapped real
    libraries add theirs there).

    Backends for calls and sandbox creation: ``native`` is the same proxy on the
    native backend (no isolation), ``cffi`` the native function called directly,
    ``wasmtime-py`` wasmtime driven by hand without sandboxlib, ``process`` a native
    helper spawned per call."""
    budget = 0.25 if quick else 1.0
    metrics: list[Metric] = []

    def record(name: str, backend: str, seconds: float, unit: str = "us") -> None:
        if unit not in UNITS:
            raise ValueError(f"bench metric {name}: unknown unit {unit!r}")
        value = seconds * UNITS[unit]
        metrics.append(Metric(name, backend, value, unit))
        progress(f"{name:<25} {backend:<14} {value:10.2f} {unit}")

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
    for backend in ["native", *ISOLATING]:
        record("sandbox_create_and_call", backend, median_seconds(first_call_op(backend), budget))
    spawn = median_seconds(spawn_op(), budget, rounds=5)
    record("sandbox_create", "process", spawn)
    record("sandbox_create_and_call", "process", spawn)
    if bulk:
        for _, workload in registered():
            workload(record, quick)
    return with_ratios(metrics)


def with_ratios(metrics: list[Metric]) -> list[Metric]:
    """Fill ``ratio_vs_native``: each value over the native row of the same name."""
    native = {m.name: m.value for m in metrics if m.backend == "native"}
    for m in metrics:
        base = native.get(m.name)
        m.ratio_vs_native = None if m.backend == "native" or not base else m.value / base
    return metrics
