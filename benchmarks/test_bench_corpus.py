"""The corpus benchmark (``sandboxlib bench --corpus``): one real workload per corpus
library and drop-in on native, wasm2c and wasmtime, interleaved, with the ratios and
their geometric means printed (``pytest -s benchmarks/test_bench_corpus.py``). No
thresholds: the check is that every backend computes what native computes."""

from __future__ import annotations

from sandboxlib.bench import corpus


def test_corpus() -> None:
    rows = corpus.run_corpus(quick=True, progress=print)
    assert len(rows) == len(corpus.all_cases()) >= 10
    print(corpus.table(rows))
