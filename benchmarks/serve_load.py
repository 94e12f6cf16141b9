"""Load on examples/serve_zlib.py: requests/s, latency and RSS, sandboxed against not.

Starts the service once per backend (``zlib``: CPython's, unsandboxed; then each
sandboxing backend) on 127.0.0.1, sends it the same bounded load -- ``--requests``
uploads of one zlib blob (58 KB inflating to 179 KB, as in issue 27), ``--concurrency``
at a time, after a warm-up -- checks every answer, and prints requests/s, p50 and p99
latency and the service's resident memory after the warm-up and at the end, each with
its ratio to the unsandboxed service. It stops by itself.

    python benchmarks/serve_load.py [--requests 2000] [--concurrency 16]
                                    [--backend zlib --backend wasm2c ...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

SERVER = Path(__file__).resolve().parent.parent / "examples" / "serve_zlib.py"
WORDS = [b"alpha", b"bravo", b"charlie", b"delta", b"echo", b"foxtrot", b"golf", b"hotel",
         b"india", b"juliett", b"kilo", b"lima", b"mike", b"november", b"oscar", b"papa"]


def request_body() -> tuple[bytes, int, int]:
    """A text-like upload: 179 KB inflating from about 58 KB; and what it inflates to."""
    rng = random.Random(27)
    lines, size = [], 0
    while size < 179_000:
        line = b" ".join(rng.choice(WORDS) + str(rng.randrange(10 ** rng.randrange(1, 9)))
                         .encode() for _ in range(rng.randrange(4, 14))) + b"\n"
        lines.append(line)
        size += len(line)
    raw = b"".join(lines)[:179_000]
    return zlib.compress(raw, 6), len(raw), zlib.crc32(raw)


@dataclass
class Result:
    backend: str
    requests: int
    errors: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    rss_warm_mib: float
    rss_end_mib: float


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start(backend: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(SERVER), "--backend", backend, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"the {backend} service did not start: {line!r}")
    return proc, line.split()[-1]


async def drive(url: str, body: bytes, expected: dict[str, int], n: int,
                concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue = iter(range(n))
    async with aiohttp.ClientSession() as session:
        async def worker() -> None:
            nonlocal errors
            for _ in queue:
                t0 = time.perf_counter()
                async with session.post(url + "/inflate", data=body) as response:
                    answer = await response.json()
                latencies.append(time.perf_counter() - t0)
                errors += response.status != 200 or answer != expected
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def measure(backend: str, requests: int, concurrency: int) -> Result:
    body, size, crc = request_body()
    expected = {"bytes": size, "crc32": crc}
    proc, url = start(backend)
    try:
        asyncio.run(drive(url, body, expected, max(50, requests // 20), concurrency))
        warm = rss_mib(proc.pid)
        t0 = time.perf_counter()
        latencies, errors = asyncio.run(drive(url, body, expected, requests, concurrency))
        seconds = time.perf_counter() - t0
        end = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    latencies.sort()
    return Result(backend, requests, errors, seconds, requests / seconds,
                  1000 * latencies[len(latencies) // 2],
                  1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
                  warm, end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", action="append",
                        choices=["zlib", "wasm2c", "wasmtime", "native"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    backends = args.backend or ["zlib", "wasm2c", "wasmtime"]
    results = [measure(b, args.requests, args.concurrency) for b in backends]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    base = next((r for r in results if r.backend == "zlib"), results[0])
    body, size, _ = request_body()
    print(f"{args.requests} requests of {len(body)} -> {size} bytes, {args.concurrency} "
          f"at a time, 127.0.0.1 (ratios: to the {base.backend} service)")
    print(f"{'backend':10} {'req/s':>8} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6} "
          f"{'errors':>6} {'RSS MiB warm -> end':>20}")
    for r in results:
        rate = r.requests_per_s / base.requests_per_s
        print(f"{r.backend:10} {r.requests_per_s:8.0f} {rate:6.2f} {r.p50_ms:7.2f} "
              f"{r.p99_ms:7.2f} {r.p99_ms / base.p99_ms:6.2f} {r.errors:6d} "
              f"{r.rss_warm_mib:9.1f} -> {r.rss_end_mib:6.1f}")


if __name__ == "__main__":
    main()
