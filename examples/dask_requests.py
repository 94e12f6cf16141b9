"""Past one machine: untrusted inputs decoded on a Dask cluster, a fresh sandbox per task.

Each task decompresses one untrusted zlib blob with ``sandboxlib.wrapped.zlib`` in a sandbox
of its own, taken from its worker's pool (``sandboxlib.workers.worker_pool``): the
task carries only an ``Opener`` naming the library; the pool, the generated
package and the compiled module live in the worker process. Some inputs are
corrupt (truncated, or with a byte flipped) and some are bombs (more output than
``max_output``): those are rejected, the worker carries on.

Run on a ``distributed.LocalCluster`` (worker processes, one thread each), with 1
and then 2 workers; the same code runs on a real cluster given its scheduler's
address. The build cache is shared by the workers of a machine: the script
counts its entries before and after to show that nothing is built twice.

    python examples/dask_requests.py [--inputs N] [--workers 1 2] [--backend B]
"""

from __future__ import annotations

import argparse
import os
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from distributed import Client, LocalCluster

from sandboxlib.toolchain.cache import cache_root
from sandboxlib.workers import Opener, worker_pool

MAX_OUTPUT = 1 << 20


def make_inputs(n: int) -> list[bytes]:
    """``n`` compressed blobs; every 7th is truncated, every 11th has a byte flipped,
    every 13th is a bomb (4 MiB of zeros, more than ``MAX_OUTPUT``)."""
    inputs = []
    for i in range(n):
        blob = zlib.compress(b"".join(b"input %d, record %d: %s\n" % (i, r, b"x" * (r % 50))
                                      for r in range(4000)))
        if i % 13 == 6:
            blob = zlib.compress(bytes(4 << 20), 9)
        elif i % 11 == 5:
            middle = len(blob) // 2
            blob = blob[:middle] + bytes([blob[middle] ^ 0x55]) + blob[middle + 1:]
        elif i % 7 == 3:
            blob = blob[: len(blob) * 2 // 3]
        inputs.append(blob)
    return inputs


def zlib_opener(backend: str | None = None) -> Opener:
    """What a task names: ``sandboxlib.wrapped.zlib.decompressobj`` with a bound on its output."""
    return Opener("sandboxlib.wrapped.zlib:decompressobj", backend=backend,
                  options=(("max_output", MAX_OUTPUT),))


def decode(blob: bytes, opener: Opener) -> int | None:
    """One task: the decoded length of ``blob``, or None if it was rejected."""
    import sandboxlib.wrapped.zlib as sandboxed_zlib

    with worker_pool(opener).sandbox() as d:   # a fresh sandbox, closed after this task
        try:
            out = len(d.decompress(blob)) + len(d.flush())
        except sandboxed_zlib.error:
            return None
        return out if d.eof else None


def warm_up(opener: Opener) -> str:
    """Make this worker's pool (loading the library, building nothing the cache has);
    returns the module file the worker runs."""
    from sandboxlib.wrapped.zlib import _package

    worker_pool(opener)
    return str(_package.LIBRARY.built_module())


@dataclass
class Run:
    workers: int
    results: list[int | None]
    seconds: float
    modules: set[str]

    @property
    def decoded(self) -> int:
        return sum(r is not None for r in self.results)

    @property
    def rejected(self) -> int:
        return sum(r is None for r in self.results)


def run_on(client: Client, inputs: list[bytes], opener: Opener) -> Run:
    """Decode ``inputs`` on ``client``'s cluster, one task each (timed after warm-up)."""
    if __name__ != "__main__":  # imported (by a test): the workers import it too
        client.upload_file(__file__)
    modules = set(client.run(warm_up, opener).values())
    start = time.perf_counter()
    futures = client.map(decode, inputs, opener=opener, pure=False)
    results: list[int | None] = client.gather(futures)
    took = time.perf_counter() - start
    return Run(len(client.scheduler_info()["workers"]), results, took, modules)


def run(inputs: list[bytes], workers: int, opener: Opener) -> Run:
    """``run_on`` a fresh LocalCluster of ``workers`` processes, one thread each."""
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        return run_on(client, inputs, opener)


def cache_entries() -> set[str]:
    """The build cache's entries, as "kind/key"."""
    root = cache_root()
    return {f"{kind.name}/{e.name}" for kind in root.iterdir()
            if kind.is_dir() and not kind.name.startswith(".")
            for e in kind.iterdir() if not e.name.startswith(".")}


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=600, help="untrusted inputs (tasks)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="cluster sizes to run (worker processes, 1 thread each)")
    parser.add_argument("--backend", default=None, help="sandbox backend (default: wasmtime)")
    args = parser.parse_args(list(argv) if argv is not None else None)

    inputs = make_inputs(args.inputs)
    opener = zlib_opener(args.backend)
    print(f"{len(inputs)} untrusted zlib inputs ({sum(map(len, inputs)) >> 10} KiB), "
          f"a fresh {args.backend or os.environ.get('SANDBOXLIB_BACKEND') or 'wasmtime'} "
          f"sandbox per task; {os.cpu_count()} CPUs")
    before = cache_entries()
    base = None
    for n in args.workers:
        r = run(inputs, n, opener)
        rate = len(inputs) / r.seconds
        base = base or rate
        print(f"  {n} worker{'s' if n > 1 else ' '}: {rate:6.0f} tasks/s ({r.seconds:.2f} s, "
              f"{rate / base:.2f}x): {r.decoded} decoded, {r.rejected} rejected "
              f"(corrupt or over max_output); workers ran {len(r.modules)} module file(s)")
    new = sorted(cache_entries() - before)
    kinds = ", ".join(f"{k}: {sum(e.startswith(k + '/') for e in new)}"
                      for k in sorted({e.split("/")[0] for e in new})) or "none"
    print(f"  build cache: {len(new)} new entries ({kinds}); each built by one process "
          f"under its file lock, then shared by all workers")


if __name__ == "__main__":
    main()
