"""Load on examples/serve_zlib.py: requests/s, latency and RSS, sandboxed against not.

Starts the service per backend (``zlib``: CPython's, unsandboxed; then each
sandboxing backend) on 127.0.0.1, sends it the same bounded load -- ``--requests``
uploads of one zlib blob (65 KB inflating to 179 KB, like issue 27's), ``--concurrency``
at a time, after a warm-up -- checks every answer, and records requests/s, p50 and p99
latency, the service's CPU time per request and its resident memory after the warm-up
and at the end. ``--rounds`` runs every backend that many times, alternating (the
order turns each round), so that the machine's other load falls on all of them alike;
each round's figures are divided by the same round's unsandboxed service, and the
report gives the median and range of those ratios. On a machine with two CPUs or more
the load generator and the service are pinned to different ones
(``os.sched_setaffinity``): the service then has one CPU of its own, and its
requests/s measure its own cost, not how the two shared a core. It stops by itself.

    python benchmarks/serve_load.py [--requests 2000] [--concurrency 16] [--rounds 3]
                                    [--backend zlib --backend wasm2c ...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
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
    """A text-like upload: 179 KB inflating from about 65 KB; its size and CRC-32."""
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
    cpu_us_per_request: float  # the service's (user + system), over the timed run
    faults_per_request: float  # the service's minor page faults, over the timed run


def usage(pid: int) -> tuple[float, int]:
    """User + system CPU seconds and minor page faults of process ``pid`` (every
    thread) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[7])


def cpus() -> tuple[set[int], set[int]] | None:
    """CPUs for the load generator and for the service (None: fewer than two)."""
    allowed = sorted(os.sched_getaffinity(0))
    return ({allowed[0]}, {allowed[1]}) if len(allowed) >= 2 else None


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start(backend: str, cpu: set[int] | None) -> tuple[subprocess.Popen[str], str]:
    """The service on ``backend``, pinned to ``cpu`` from its first instruction (so are
    the threads it starts), and its address."""
    pin = None if cpu is None else lambda: os.sched_setaffinity(0, cpu)
    proc = subprocess.Popen([sys.executable, str(SERVER), "--backend", backend, "--port", "0"],
                            stdout=subprocess.PIPE, text=True, preexec_fn=pin)
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


def measure(backend: str, requests: int, concurrency: int,
            cpu: set[int] | None = None) -> Result:
    body, size, crc = request_body()
    expected = {"bytes": size, "crc32": crc}
    proc, url = start(backend, cpu)
    try:
        asyncio.run(drive(url, body, expected, max(50, requests // 20), concurrency))
        warm, (used, faults) = rss_mib(proc.pid), usage(proc.pid)
        t0 = time.perf_counter()
        latencies, errors = asyncio.run(drive(url, body, expected, requests, concurrency))
        seconds = time.perf_counter() - t0
        end, (used_end, faults_end) = rss_mib(proc.pid), usage(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    latencies.sort()
    return Result(backend, requests, errors, seconds, requests / seconds,
                  1000 * latencies[len(latencies) // 2],
                  1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
                  warm, end, 1e6 * (used_end - used) / requests, (faults_end - faults) / requests)


def rounds(backends: list[str], n: int, requests: int, concurrency: int,
           pinned: tuple[set[int], set[int]] | None) -> list[list[Result]]:
    """``n`` rounds of every backend, the order turned by one each round; each round's
    results in the order of ``backends``. ``pinned``: the CPUs of this process (the
    load generator) and of the service."""
    if pinned is not None:
        os.sched_setaffinity(0, pinned[0])
    done: list[list[Result]] = []
    for i in range(n):
        order = backends[i % len(backends):] + backends[:i % len(backends)]
        got = {b: measure(b, requests, concurrency, pinned and pinned[1]) for b in order}
        done.append([got[b] for b in backends])
    return done


def spread(values: list[float], digits: int = 2) -> str:
    """The median and range of ``values``."""
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", action="append",
                        choices=["zlib", "wasm2c", "wasmtime", "native"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    backends = args.backend or ["zlib", "wasm2c", "wasmtime"]
    pinned = cpus()
    results = rounds(backends, max(1, args.rounds), args.requests, args.concurrency, pinned)
    if args.json:
        print(json.dumps([[asdict(r) for r in one] for one in results], indent=2))
        return
    base = backends.index("zlib") if "zlib" in backends else 0
    body, size, _ = request_body()
    print(f"{args.requests} requests of {len(body)} -> {size} bytes, {args.concurrency} "
          f"at a time, 127.0.0.1, {len(results)} rounds alternating, "
          + (f"load generator on CPU {min(pinned[0])}, service on CPU {min(pinned[1])}"
             if pinned else "unpinned (one CPU)")
          + f"; median (range) of the rounds, ratios to the same round's {backends[base]} "
          "service")
    print(f"{'backend':9} {'req/s':>16} {'ratio':>16} {'p50 ms':>17} {'p99 ms':>17} "
          f"{'p99 ratio':>16} {'CPU us/req':>16} {'ratio':>16} {'faults/req':>16} {'errors':>6} "
          "RSS MiB warm -> end")
    for i, backend in enumerate(backends):
        mine = [one[i] for one in results]
        bases = [one[base] for one in results]
        pairs = list(zip(mine, bases))
        print(f"{backend:9} {spread([r.requests_per_s for r in mine], 0):>16} "
              f"{spread([r.requests_per_s / b.requests_per_s for r, b in pairs]):>16} "
              f"{spread([r.p50_ms for r in mine]):>17} {spread([r.p99_ms for r in mine]):>17} "
              f"{spread([r.p99_ms / b.p99_ms for r, b in pairs]):>16} "
              f"{spread([r.cpu_us_per_request for r in mine], 0):>16} "
              f"{spread([r.cpu_us_per_request / b.cpu_us_per_request for r, b in pairs]):>16} "
              f"{spread([r.faults_per_request for r in mine], 1):>16} "
              f"{sum(r.errors for r in mine):6d} "
              f"{min(r.rss_warm_mib for r in mine):.1f}-{max(r.rss_warm_mib for r in mine):.1f} -> "
              f"{min(r.rss_end_mib for r in mine):.1f}-{max(r.rss_end_mib for r in mine):.1f}")


if __name__ == "__main__":
    main()
