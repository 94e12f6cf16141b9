"""Past one machine: untrusted zlib blobs decoded with a fresh sandbox per task on a
Dask LocalCluster (examples/dask_requests.py, run as a user runs it), one worker then
two. The benchmark is the throughput; the threshold (it lives here, not in the unit
tests) is that a second worker process adds at least a fifth on this 2-core machine,
with the same answers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "dask_requests.py"
LINE = re.compile(r"(\d) workers?\s*:\s*(\d+) tasks/s .*: (\d+) decoded, (\d+) rejected")


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c"])
def test_dask_tasks_per_second(benchmark: Any, backend: str) -> None:
    def run() -> str:
        return subprocess.run([sys.executable, str(EXAMPLE), "--inputs", "300", "--backend",
                               backend], capture_output=True, text=True, check=True).stdout
    out = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.group = "dask_300_tasks"
    runs = {int(m[1]): (int(m[2]), m[3], m[4]) for m in LINE.finditer(out)}
    assert set(runs) == {1, 2}, out
    benchmark.extra_info.update(tasks_per_s={n: r[0] for n, r in runs.items()})
    assert runs[1][1:] == runs[2][1:] and int(runs[1][1]) > 0, out  # the same answers
    assert runs[2][0] >= 1.2 * runs[1][0], out
