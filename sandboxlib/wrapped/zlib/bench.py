"""Compress (level 6) and decompress 1 MiB: sandboxed zlib on a backend against
CPython's ``zlib`` (the same zlib, 1.2.13), measured interleaved in one run; and a
request-sized decompress (179 KiB out) in a fresh sandbox each time, against CPython's
and a reused sandbox, with the page faults it takes.

``bench_zlib(backend)`` returns the medians and ratios for one backend;
``bench_request(backend)`` those of the request-sized decompress;
``workload`` adds them to ``sandboxlib bench`` (entry-point group ``sandboxlib.bench``);
``measure()`` does every backend; ``python -m sandboxlib.wrapped.zlib.bench`` prints them.
"""

from __future__ import annotations

import functools
import resource
import statistics
import time
import zlib
from contextlib import ExitStack
from typing import Callable

from sandboxlib.backends import BACKENDS
from sandboxlib.bench import ISOLATING, Record, interleaved_medians
from sandboxlib.bench.plugins import Case
from sandboxlib.bench.payloads import text_like as make_payload

import sandboxlib.wrapped.zlib as wz

SIZE = 1 << 20
LEVEL = 6
REQUEST_SIZE = 179 << 10


def bench_zlib(backend: str, rounds: int = 9, size: int = SIZE) -> dict[str, float]:
    """Median seconds to compress (level 6) and decompress ``size`` bytes with
    ``sandboxlib.wrapped.zlib`` on ``backend`` and with CPython's zlib, and the ratios.

    Keys: ``compress``, ``decompress`` (sandboxed), ``cpython_compress``,
    ``cpython_decompress``, ``compress_ratio``, ``decompress_ratio`` (sandboxed over
    CPython; 1.0 is parity)."""
    data = make_payload(size)
    packed = zlib.compress(data, LEVEL)
    if wz.compress(data, LEVEL, backend=backend) != packed:  # warm-up, and a check
        raise AssertionError(f"{backend}: compressed bytes differ from CPython's zlib")
    if wz.decompress(packed, backend=backend) != data:
        raise AssertionError(f"{backend}: decompression differs from the input")
    medians = interleaved_medians({
        "cpython_compress": lambda: zlib.compress(data, LEVEL),
        "compress": lambda: wz.compress(data, LEVEL, backend=backend),
        "cpython_decompress": lambda: zlib.decompress(packed),
        "decompress": lambda: wz.decompress(packed, backend=backend),
    }, rounds)
    medians["compress_ratio"] = medians["compress"] / medians["cpython_compress"]
    medians["decompress_ratio"] = medians["decompress"] / medians["cpython_decompress"]
    return medians


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def request_ops(backend: str, packed: bytes) -> dict[str, Callable[[], bytes]]:
    """Decompressing one request's ``packed`` bytes: with CPython's zlib, in a fresh
    ``decompressobj()`` (so a fresh sandbox) each time, and in this thread's reused
    sandbox (``decompress``)."""
    def cpython() -> bytes:
        d = zlib.decompressobj()
        return d.decompress(packed) + d.flush()

    def fresh() -> bytes:
        d = wz.decompressobj(backend=backend)
        return d.decompress(packed) + d.flush()

    return {"cpython": cpython, "fresh": fresh,
            "reused": lambda: wz.decompress(packed, backend=backend)}


def bench_request(backend: str, rounds: int = 25) -> dict[str, float]:
    """Median seconds of ``request_ops`` on ``REQUEST_SIZE`` bytes of ``make_payload``
    (interleaved), minor page faults per request of each, and the ratios.

    Keys: ``cpython``, ``fresh``, ``reused``; ``<op>_faults``; ``fresh_ratio`` and
    ``reused_ratio`` (over CPython), ``fresh_over_reused``."""
    data = make_payload(REQUEST_SIZE)
    ops = request_ops(backend, zlib.compress(data, LEVEL))
    for name, op in ops.items():  # warm-up, and a check
        if op() != data:
            raise AssertionError(f"{backend}: {name} decompression differs from the input")
    samples: dict[str, list[float]] = {name: [] for name in ops}
    faults = dict.fromkeys(ops, 0)
    for _ in range(rounds):
        for name, op in ops.items():
            before, start = _minor_faults(), time.perf_counter()
            op()
            samples[name].append(time.perf_counter() - start)
            faults[name] += _minor_faults() - before
    r = {name: statistics.median(values) for name, values in samples.items()}
    r.update({f"{name}_faults": count / rounds for name, count in faults.items()})
    r["fresh_ratio"] = r["fresh"] / r["cpython"]
    r["reused_ratio"] = r["reused"] / r["cpython"]
    r["fresh_over_reused"] = r["fresh"] / r["reused"]
    return r


def workload(record: Record, quick: bool) -> None:
    """``sandboxlib bench``: ``zlib_compress_1mib`` and ``zlib_decompress_1mib``, and
    ``zlib_request_fresh`` (a 179 KiB decompress in a fresh sandbox) and
    ``zlib_request_reused`` on each isolating backend; "native" is CPython's zlib (its
    median over those runs)."""
    cpython: dict[str, list[float]] = {"compress": [], "decompress": [], "request": []}
    for backend in ISOLATING:
        r = bench_zlib(backend, rounds=5 if quick else 9)
        record("zlib_compress_1mib", backend, r["compress"], "ms")
        record("zlib_decompress_1mib", backend, r["decompress"], "ms")
        cpython["compress"].append(r["cpython_compress"])
        cpython["decompress"].append(r["cpython_decompress"])
        q = bench_request(backend, rounds=9 if quick else 25)
        record("zlib_request_fresh", backend, q["fresh"])
        record("zlib_request_reused", backend, q["reused"])
        cpython["request"].append(q["cpython"])
    for op in ("compress", "decompress"):
        record(f"zlib_{op}_1mib", "native", statistics.median(cpython[op]), "ms")
    for op in ("fresh", "reused"):
        record(f"zlib_request_{op}", "native", statistics.median(cpython["request"]))


def measure(rounds: int = 9) -> dict[str, dict[str, float]]:
    """``bench_zlib`` for every backend."""
    return {backend: bench_zlib(backend, rounds) for backend in BACKENDS}


def main() -> None:
    print(f"zlib, {SIZE >> 20} MiB text-like data, level {LEVEL} (medians, interleaved):")
    print(f"  {'backend':<10} {'compress':>10} {'CPython':>9} {'ratio':>6}   "
          f"{'decompress':>10} {'CPython':>9} {'ratio':>6}")
    for backend, r in measure().items():
        print(f"  {backend:<10} {r['compress'] * 1e3:8.2f}ms {r['cpython_compress'] * 1e3:7.2f}ms "
              f"{r['compress_ratio']:5.2f}x   {r['decompress'] * 1e3:8.2f}ms "
              f"{r['cpython_decompress'] * 1e3:7.2f}ms {r['decompress_ratio']:5.2f}x")
    print(f"decompressing {REQUEST_SIZE >> 10} KiB per request (medians, interleaved; "
          "minor page faults per request):")
    for backend in ISOLATING:
        q = bench_request(backend)
        print(f"  {backend:<10} fresh {q['fresh'] * 1e6:7.1f}us ({q['fresh_faults']:5.1f} faults) "
              f"{q['fresh_ratio']:5.2f}x   reused {q['reused'] * 1e6:7.1f}us "
              f"{q['reused_ratio']:5.2f}x   CPython {q['cpython'] * 1e6:7.1f}us   "
              f"fresh/reused {q['fresh_over_reused']:5.2f}x")


def corpus_case() -> Case:
    """``sandboxlib bench --corpus``: decompress 1 MiB, the native backend the baseline."""
    def prepare(backend: str, stack: ExitStack) -> Callable[[], bytes]:
        return functools.partial(wz.decompress, _packed(), backend=backend)
    return Case("zlib_decompress_1mib", f"zlib 1.2.13: decompress 1 MiB of text (level {LEVEL})",
                prepare)


@functools.cache
def _packed() -> bytes:
    return zlib.compress(make_payload(), LEVEL)


if __name__ == "__main__":
    main()
