"""The benchmark suite behind ``sandboxlib bench`` and ``benchmarks/``: workloads and
measurements shared by both, so the numbers printed and the numbers tested agree.

Packages that sandbox a real library add their own workloads through the entry-point
group ``sandboxlib.bench``, and their ``bench --corpus`` cases through
``sandboxlib.bench.corpus`` (see ``plugins``); sandboxlib never imports them."""

from .plugins import CORPUS_GROUP, GROUP, Case, Record, Workload
from .suite import ISOLATING, Metric, run_suite
from .timing import interleaved_medians, median_seconds

__all__ = ["CORPUS_GROUP", "GROUP", "ISOLATING", "Case", "Metric", "Record", "Workload",
           "interleaved_medians", "median_seconds", "run_suite"]
