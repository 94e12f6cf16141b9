"""examples/dask_requests.py's core on a 2-worker Dask LocalCluster: a fresh sandbox
per task from each worker's pool, the same answers as Python's zlib (results, not
timings: those are the example's to print)."""

from __future__ import annotations

import importlib.util
import sys
import zlib
from types import ModuleType

import pytest

from libs import ROOT

pytest.importorskip("distributed")


def example() -> ModuleType:
    name = "dask_requests"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def expected(blob: bytes, max_output: int) -> int | None:
    """What the sandboxed decode must answer: Python's zlib, bounded by ``max_output``."""
    try:
        out = zlib.decompress(blob)
    except zlib.error:
        return None
    return len(out) if len(out) <= max_output else None


def test_untrusted_inputs_on_a_two_worker_cluster() -> None:
    ex = example()
    inputs = ex.make_inputs(40)
    want = [expected(blob, ex.MAX_OUTPUT) for blob in inputs]
    run = ex.run(inputs, 2, ex.zlib_opener("wasmtime"))
    assert run.workers == 2
    assert run.results == want
    assert (run.decoded, run.rejected) == (28, 12)  # 5 truncated, 4 flipped, 3 bombs
    assert len(run.modules) == 1  # both workers run the one module in the shared cache
