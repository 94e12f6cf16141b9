"""The benchmark suite behind ``sandboxlib bench`` and ``benchmarks/``: workloads and
measurements shared by both, so the numbers printed and the numbers tested agree."""

from .suite import Metric, run_suite

__all__ = ["Metric", "run_suite"]
