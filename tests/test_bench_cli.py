"""`sandboxlib bench --json`: the schema other tools read (timings are not checked
here; thresholds belong to benchmarks/, not to unit tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_bench_json_schema(tmp_path: Path) -> None:
    plot = tmp_path / "ratios.png"
    proc = subprocess.run([sys.executable, "-m", "sandboxlib", "bench", "--json", "--plot",
                           str(plot)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    metrics = data["metrics"]
    for m in metrics:
        assert set(m) == {"name", "backend", "value", "unit", "ratio_vs_native"}
        assert isinstance(m["name"], str) and isinstance(m["backend"], str)
        assert isinstance(m["value"], float) and m["value"] > 0
        assert m["ratio_vs_native"] is None or isinstance(m["ratio_vs_native"], float)
        assert (m["ratio_vs_native"] is None) == (m["backend"] == "native")
    names = {m["name"] for m in metrics}
    assert {"call_trivial", "sandbox_create", "zlib_compress_1mib"} <= names
    backends = {(m["name"], m["backend"]) for m in metrics}
    assert ("sandbox_create", "process") in backends and ("call_trivial", "cffi") in backends
    assert "bench:" in proc.stderr  # progress while it runs
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"
