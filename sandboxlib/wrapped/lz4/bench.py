"""Compress and decompress 4 KiB blocks (chatty: a crossing per 4 KiB) and one 1 MiB
block (bulk: the code inside): sandboxed lz4 on each isolating backend against
python-lz4 (``lz4.block``, the same lz4, 1.10.0), measured interleaved in one run.
Without python-lz4 installed the baseline is the same C on the native backend.

``bench_request`` decompresses a request-sized block (64 KiB) in a fresh sandbox each
time, in the thread's reused one, and with the baseline. ``workload`` adds
``lz4_compress_4kib``, ``lz4_decompress_4kib`` (median time per block),
``lz4_compress_1mib``, ``lz4_decompress_1mib`` and ``lz4_request_fresh``/``_reused``
to ``sandboxlib bench``; ``python -m sandboxlib.wrapped.lz4.bench`` prints them.
"""

from __future__ import annotations

import functools
import importlib
import statistics
from collections.abc import Callable
from contextlib import ExitStack, closing
from typing import Any

from sandboxlib.bench import ISOLATING, Record, interleaved_medians
from sandboxlib.bench.plugins import Case

import sandboxlib.wrapped.lz4 as wl
from sandboxlib.wrapped.lz4 import _Block, _decompress_in

SIZES = {"4kib": (4096, 64), "1mib": (1 << 20, 1)}  # metric suffix: block bytes, blocks
REQUEST_SIZE = 64 << 10


def make_blocks(count: int, size: int) -> list[bytes]:
    """Log-like text blocks (compress to about half)."""
    line = b"2026-11-26T23:19:24Z worker-%03d GET /api/v1/items/%06d 200 %5d bytes\n"
    text = b"".join(line % (i % 7, i * 37 % 999999, i * 13 % 65536)
                    for i in range(count * size // 64 + 1))
    return [text[i * size:(i + 1) * size] for i in range(count)]


def baseline() -> tuple[str, Callable[[bytes], bytes], Callable[[bytes, int], bytes]]:
    """python-lz4's block functions, or the same C on the native backend."""
    try:
        block: Any = importlib.import_module("lz4.block")
    except ImportError:
        return ("native backend", functools.partial(wl.compress, backend="native"),
                functools.partial(wl.decompress, backend="native"))
    return ("python-lz4",
            lambda data: bytes(block.compress(data, store_size=False)),
            lambda data, size: bytes(block.decompress(data, uncompressed_size=size)))


def bench_lz4(backend: str, rounds: int = 9, size: str = "4kib") -> dict[str, float]:
    """Median seconds per block of ``size`` (a key of ``SIZES``): ``compress``/
    ``decompress`` sandboxed on ``backend``, ``base_compress``/``base_decompress`` for
    the baseline."""
    block, count = SIZES[size]
    blocks = make_blocks(count, block)
    _, base_compress, base_decompress = baseline()
    packed = [base_compress(b) for b in blocks]
    for b, p in zip(blocks, packed):  # warm-up, and a check both ways
        if wl.decompress(p, len(b), backend=backend) != b or base_decompress(
                wl.compress(b, backend=backend), len(b)) != b:
            raise AssertionError(f"{backend}: lz4 blocks do not round-trip with the baseline")
    medians = interleaved_medians({
        "base_compress": lambda: [base_compress(b) for b in blocks],
        "compress": lambda: [wl.compress(b, backend=backend) for b in blocks],
        "base_decompress": lambda: [base_decompress(p, block) for p in packed],
        "decompress": lambda: [wl.decompress(p, block, backend=backend) for p in packed],
    }, rounds)
    return {k: v / len(blocks) for k, v in medians.items()}


def request_ops(backend: str, data: bytes) -> dict[str, Callable[[], bytes]]:
    """Decompressing ``data``'s block (packed by the baseline): ``base``, ``fresh`` (a
    new sandbox, closed after) and ``reused`` (the thread's)."""
    _, base_compress, base_decompress = baseline()
    packed = base_compress(data)

    def fresh() -> bytes:
        with closing(_Block(backend)) as block:
            return _decompress_in(block, packed, len(data))

    return {"base": lambda: base_decompress(packed, len(data)), "fresh": fresh,
            "reused": lambda: wl.decompress(packed, len(data), backend=backend)}


def bench_request(backend: str, rounds: int = 25) -> dict[str, float]:
    """Median seconds (interleaved) of ``request_ops`` on a ``REQUEST_SIZE`` block."""
    data = make_blocks(1, REQUEST_SIZE)[0]
    ops = request_ops(backend, data)
    for name, op in ops.items():  # warm-up, and a check
        if op() != data:
            raise AssertionError(f"{backend}: {name} decompression differs from the input")
    return interleaved_medians(ops, rounds)


def workload(record: Record, quick: bool) -> None:
    """``sandboxlib bench``: per-block times on each isolating backend; "native" is
    the baseline (python-lz4, or the native backend without it)."""
    for size in SIZES:
        base: dict[str, list[float]] = {"compress": [], "decompress": []}
        for backend in ISOLATING:
            r = bench_lz4(backend, rounds=5 if quick else 9, size=size)
            for op in base:
                record(f"lz4_{op}_{size}", backend, r[op])
                base[op].append(r[f"base_{op}"])
        for op, samples in base.items():
            record(f"lz4_{op}_{size}", "native", statistics.median(samples))
    baseline_request = []
    for backend in ISOLATING:
        q = bench_request(backend, rounds=9 if quick else 25)
        for op in ("fresh", "reused"):
            record(f"lz4_request_{op}", backend, q[op])
        baseline_request.append(q["base"])
    for op in ("fresh", "reused"):
        record(f"lz4_request_{op}", "native", statistics.median(baseline_request))


def main() -> None:
    name = baseline()[0]
    for size in SIZES:
        for backend in ISOLATING:
            r = bench_lz4(backend, size=size)
            for op in ("compress", "decompress"):
                print(f"lz4 {op} {size} on {backend}: {r[op] * 1e6:.2f} µs, {name} "
                      f"{r['base_' + op] * 1e6:.2f} µs ({r[op] / r['base_' + op]:.2f}×)")


def corpus_case() -> Case:
    """``sandboxlib bench --corpus``: compress a 1 MiB block, the native backend the
    baseline."""
    def prepare(backend: str, stack: ExitStack) -> Callable[[], bytes]:
        block = make_blocks(1, SIZES["1mib"][0])[0]
        return functools.partial(wl.compress, block, backend=backend)
    return Case("lz4_compress_1mib", "lz4 1.10.0: LZ4_compress_default of a 1 MiB block of "
                "log lines", prepare)


if __name__ == "__main__":
    main()
