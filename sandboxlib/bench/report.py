"""Printing the suite's results: a table, JSON, and a plot of the ratios."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .suite import Metric


def table(metrics: Sequence[Metric]) -> str:
    lines = [f"{'metric':<26}{'backend':<14}{'median':>14}  {'× native':>9}",
             "-" * 65]
    for m in metrics:
        ratio = "" if m.ratio_vs_native is None else f"{m.ratio_vs_native:8.2f}×"
        lines.append(f"{m.name:<26}{m.backend:<14}{m.value:>11.2f} {m.unit:<3} {ratio:>9}")
    lines.append("")
    for name, what in (("sandbox_create", "a fresh sandbox"),
                       ("sandbox_create_and_call", "a fresh sandbox and its first call")):
        cost = {m.backend: m.value for m in metrics if m.name == name}
        if "process" in cost:
            faster = [f"{b} {cost['process'] / v:.0f}×" for b, v in cost.items()
                      if b not in ("process", "native", "wasmtime-py")]
            lines.append(f"{what} vs spawning a process: {', '.join(faster)} cheaper")
    cffi = next((m.value for m in metrics if m.name == "call_trivial" and m.backend == "cffi"),
                None)
    if cffi:
        per = [f"{m.backend} {m.value / cffi:.1f}×" for m in metrics
               if m.name == "call_trivial" and m.backend not in ("cffi",)]
        lines.append(f"trivial call vs a raw cffi call of the native function: {', '.join(per)}")
    return "\n".join(lines)


def as_json(metrics: Sequence[Metric]) -> str:
    return json.dumps({"metrics": [m.as_dict() for m in metrics]}, indent=2)


def plot(metrics: Sequence[Metric], path: Path) -> None:
    """A bar chart of every ratio to native (log scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [m for m in metrics if m.ratio_vs_native is not None]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.5))
    labels = [f"{m.name} · {m.backend}" for m in rows]
    ratios = [m.ratio_vs_native or 0.0 for m in rows]
    ax.barh(labels, ratios, color=["#4477aa" if r <= 1.5 else "#cc6677" for r in ratios])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("time relative to native (same run; lower is better)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
