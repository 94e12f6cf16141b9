"""Timing helpers shared by the suite and by registered workloads: medians of
repeated runs, so one slow moment of the machine does not move a result."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Callable

Op = Callable[[], object]


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


def interleaved_medians(ops: Mapping[str, Op], rounds: int) -> dict[str, float]:
    """Median seconds of each op, taking one sample of every op per round (so that
    the machine's slow and fast moments fall on all of them alike)."""
    samples: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(rounds):
        for name, op in ops.items():
            start = time.perf_counter()
            op()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}
