"""Compress (level 6) and decompress 1 MiB: sandboxed zlib on a backend against
CPython's ``zlib`` (the same zlib, 1.2.13), measured interleaved in one run.

``bench_zlib(backend)`` returns the medians and ratios for one backend;
``workload`` adds them to ``sandboxlib bench`` (entry-point group ``sandboxlib.bench``);
``measure()`` does every backend; ``python -m sandboxlib.wrapped.zlib.bench`` prints them.
"""

from __future__ import annotations

import random
import statistics
import zlib

from sandboxlib.backends import BACKENDS
from sandboxlib.bench import ISOLATING, Record, interleaved_medians

import sandboxlib.wrapped.zlib as wz

SIZE = 1 << 20
LEVEL = 6


def make_payload(size: int = SIZE, seed: int = 1) -> bytes:
    """Text-like data (words, punctuation, some numbers): compresses to about 35%."""
    rng = random.Random(seed)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10)))
             for _ in range(2000)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + rng.choice([b" ", b" ", b" ", b", ", b".\n"])
        if rng.random() < 0.02:
            out += str(rng.randint(0, 99999)).encode() + b" "
    return bytes(out[:size])


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


def workload(record: Record, quick: bool) -> None:
    """``sandboxlib bench``: ``zlib_compress_1mib`` and ``zlib_decompress_1mib`` on
    each isolating backend; "native" is CPython's zlib (its median over those runs)."""
    cpython: dict[str, list[float]] = {"compress": [], "decompress": []}
    for backend in ISOLATING:
        r = bench_zlib(backend, rounds=5 if quick else 9)
        record("zlib_compress_1mib", backend, r["compress"], "ms")
        record("zlib_decompress_1mib", backend, r["decompress"], "ms")
        cpython["compress"].append(r["cpython_compress"])
        cpython["decompress"].append(r["cpython_decompress"])
    for op, samples in cpython.items():
        record(f"zlib_{op}_1mib", "native", statistics.median(samples), "ms")


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


if __name__ == "__main__":
    main()
