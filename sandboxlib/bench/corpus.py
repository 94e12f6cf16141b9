"""``sandboxlib bench --corpus``: one real workload per library of the corpus
(``corpus_cases``) and per drop-in (their ``corpus_case``, entry-point group
``sandboxlib.bench.corpus``: ``plugins``), each timed on ``native``, ``wasm2c`` and ``wasmtime``
interleaved in one process, with wasm2c ÷ native, wasmtime ÷ native, wasmtime ÷ wasm2c
and the geometric means of each.

Every backend's result of a workload is compared with native's before it is timed, so a
backend that computes something else fails instead of being fast."""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Callable

from ..errors import SandboxError
from ..progress import LOGGER
from ..toolchain.cpu import machine_level
from .plugins import Case, registered_cases
from .timing import interleaved_medians

BACKENDS = ("native", "wasm2c", "wasmtime")
RATIOS = (("wasm2c", "native"), ("wasmtime", "native"), ("wasmtime", "wasm2c"))


@dataclass
class Row:
    """One case's medians (seconds, by backend) and its ratios (``"wasm2c/native"``...)."""

    name: str
    what: str
    seconds: dict[str, float]
    ratios: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self.ratios = {f"{a}/{b}": self.seconds[a] / self.seconds[b] for a, b in RATIOS}


def geomeans(rows: list[Row]) -> dict[str, float]:
    """The geometric mean of each ratio over ``rows``."""
    return {f"{a}/{b}": math.exp(sum(math.log(r.ratios[f"{a}/{b}"]) for r in rows) / len(rows))
            for a, b in RATIOS} if rows else {}


def all_cases() -> list[Case]:
    """The corpus libraries' cases, then the registered ones."""
    from .corpus_cases import CASES
    return [*CASES, *registered_cases()]


def measure(case: Case, rounds: int) -> Row:
    """``case`` on every backend: checked against native's result, then timed."""
    with ExitStack() as stack:
        ops = {b: case.prepare(b, stack) for b in BACKENDS}
        expected = ops["native"]()
        for backend, op in ops.items():
            if backend != "native" and op() != expected:
                raise SandboxError(f"bench {case.name}: {backend}'s result differs from native's")
        return Row(case.name, case.what, interleaved_medians(ops, rounds))


def run_corpus(quick: bool = True, only: frozenset[str] | None = None,
               progress: Callable[[str], None] = lambda line: LOGGER.info("bench: %s", line)
               ) -> list[Row]:
    """Every case (or those named in ``only``), measured in turn; ``quick`` takes 5
    rounds, else 15."""
    rows = []
    for case in all_cases():
        if only is not None and case.name not in only:
            continue
        row = measure(case, 5 if quick else 15)
        progress(line(row))
        rows.append(row)
    return rows


def line(row: Row) -> str:
    times = "  ".join(f"{b} {row.seconds[b] * 1e3:8.2f} ms" for b in BACKENDS)
    ratios = "  ".join(f"{k} {v:5.2f}×" for k, v in row.ratios.items())
    return f"{row.name:<24} {times}  {ratios}"


def table(rows: list[Row]) -> str:
    head = f"{'workload':<24}" + "".join(f"{b:>11}" for b in BACKENDS) + "".join(
        f"{k:>17}" for k in row_keys())
    out = [head, "-" * len(head)]
    for r in rows:
        out.append(f"{r.name:<24}" + "".join(f"{r.seconds[b] * 1e3:8.2f} ms" for b in BACKENDS)
                   + "".join(f"{v:16.2f}×" for v in r.ratios.values()))
    out.append(f"{'geometric mean':<24}{'':>33}"
               + "".join(f"{v:16.2f}×" for v in geomeans(rows).values()))
    out.append(f"wasm2c built for the processor level {machine_level()}")
    out += ["", *(f"{r.name}: {r.what}" for r in rows)]
    return "\n".join(out)


def row_keys() -> list[str]:
    return [f"{a}/{b}" for a, b in RATIOS]


def as_dict(rows: list[Row]) -> dict[str, object]:
    """What ``--json`` prints: per workload its medians (ms) and ratios, the means, and
    the processor level wasm2c's extensions were built for."""
    return {"corpus": [{"name": r.name, "what": r.what,
                        "ms": {b: r.seconds[b] * 1e3 for b in BACKENDS}, "ratios": r.ratios}
                       for r in rows],
            "geomean": geomeans(rows), "wasm2c_cpu": machine_level()}
