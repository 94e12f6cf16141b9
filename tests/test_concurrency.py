"""Threads and processes using sandboxlib at once: first use of a library from many
threads, limits in a forked child, and processes sharing the build cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest
from conftest import ALL_BACKENDS, ISOLATING_BACKENDS
from libs import H, packages, plain, sample_library  # noqa: F401 fixtures

from sandboxlib import Limits, ResourceError
from sandboxlib.toolchain import cache_root

THREADS = 8
ROUNDS = 3
HANG_GUARD = 120.0  # seconds; only there so that a regression fails instead of hanging
# Threads ask for different settings at once: some share what is built, some do not.
LIMITS = (Limits(), Limits(timeout=30.0), Limits(fuel=10**9), Limits(memory_bytes=64 << 20))


def first_calls(backend: str) -> list[int | BaseException]:
    """``THREADS`` threads released together, each creating a sandbox of a library no
    one has used yet and calling it; what each got."""
    lib = sample_library()
    start = threading.Barrier(THREADS)

    def run(i: int) -> int | BaseException:
        start.wait()
        try:
            with lib.sandbox(backend, limits=LIMITS[i % len(LIMITS)]) as sb:
                return int(plain(sb.sample_add(i, 1000)))
        except BaseException as exc:  # reported with the others
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_threads_creating_the_first_sandbox_of_a_library_at_once_all_succeed(
        backend: str) -> None:
    for _ in range(ROUNDS):
        assert first_calls(backend) == [i + 1000 for i in range(THREADS)]


FRESH_PROCESS = """
import sys
sys.path.insert(0, sys.argv[1])
from test_concurrency import THREADS, first_calls
for backend in sys.argv[2:]:
    got = first_calls(backend)
    assert got == [i + 1000 for i in range(THREADS)], (backend, got)
"""


def test_threads_at_once_in_a_fresh_process_all_succeed() -> None:
    """As above, with nothing created yet in the process (engines, backends, loaded
    extensions): what failed with "cross-Engine instantiation" or crashed."""
    proc = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(Path(__file__).parent),
                           *ALL_BACKENDS], capture_output=True, text=True, timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stderr


def wait_for(pid: int) -> int:
    """The exit code of child ``pid``; killed (and the test failed) if it hangs."""
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {HANG_GUARD} s")


def in_forked_child(body: Callable[[], int]) -> int:
    """Run ``body`` in a forked child; its result is the exit code (2 if it raised)."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            code = body()
        finally:
            os._exit(code)
    return wait_for(pid)


@pytest.mark.parametrize("backend", ISOLATING_BACKENDS)
def test_a_forked_child_still_enforces_timeouts(H: ModuleType, backend: str) -> None:
    limits = Limits(timeout=0.2)
    with H.sandbox(backend, limits=limits) as sb:  # the parent's timer thread runs
        with pytest.raises(ResourceError):
            sb.hostile_spin()

    def spin() -> int:
        try:
            with H.sandbox(backend, limits=limits) as sb:
                sb.hostile_spin()
        except ResourceError:
            return 0
        return 1

    assert in_forked_child(spin) == 0
    with H.sandbox(backend, limits=limits) as sb:  # and the parent's still does
        with pytest.raises(ResourceError):
            sb.hostile_spin()


@pytest.mark.parametrize("backend", ISOLATING_BACKENDS)
def test_timed_calls_on_threads_stop_at_their_own_limits(H: ModuleType, backend: str) -> None:
    """Timed calls start and end on several threads while others run past their limits:
    each spinning call stops at its own limit, and no other call stops (on wasm2c the
    clock lists each timed call while it runs and sets its stop word when its time is
    up: _clock.h)."""
    stop = threading.Event()
    spun: list[float] = []
    done: list[int] = []

    def spin() -> None:
        with H.sandbox(backend, limits=Limits(timeout=0.3)) as sb:
            start = time.monotonic()
            with pytest.raises(ResourceError):
                sb.hostile_spin()
            spun.append(time.monotonic() - start)

    def churn() -> None:
        with H.sandbox(backend, limits=Limits(timeout=1.0)) as sb:
            n = 0
            while not stop.is_set():
                assert plain(sb.hostile_ok(n)) == 2 * n
                n += 1
            done.append(n)

    churners = [threading.Thread(target=churn) for _ in range(3)]
    for t in churners:
        t.start()
    try:
        spinners = [threading.Thread(target=spin) for _ in range(3)]
        for t in spinners:
            t.start()
        for t in spinners:
            t.join(HANG_GUARD)
    finally:
        stop.set()
        for t in churners:
            t.join(HANG_GUARD)
    assert len(spun) == 3 and all(0.25 < s < 10 for s in spun), spun
    assert len(done) == 3 and all(n > 100 for n in done), done


BUILDER = """
import json, sys
sys.path.insert(0, sys.argv[1])
commands = []
sys.addaudithook(lambda event, args: event == "subprocess.Popen" and
                 commands.append([str(a) for a in args[1]]))
from libs import plain, sample_library
lib = sample_library(defines=(sys.argv[2],))
results = []
for backend in ("wasmtime", "wasm2c", "native"):
    with lib.sandbox(backend) as sb:
        results.append(int(plain(sb.sample_add(2, 3))))
print(json.dumps({"results": results, "module": str(lib.built_module()),
                  "commands": commands}))
"""


def test_processes_building_the_same_module_at_once_build_it_once(tmp_path: Path) -> None:
    """Two processes with an empty shared cache, first using a library no one has
    built (a define no build has had) at once: every build runs once, the other
    process waits for it and uses it."""
    nonce = f"SANDBOXLIB_TEST_NONCE={uuid.uuid4().hex}"
    env = {**os.environ, "SANDBOXLIB_CACHE": str(tmp_path / "cache"),
           "ZIG_GLOBAL_CACHE_DIR": str(cache_root() / "zig")}  # zig's libc stays built
    procs = [subprocess.Popen([sys.executable, "-c", BUILDER, str(Path(__file__).parent), nonce],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=HANG_GUARD) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    reports = [json.loads(out) for out, _ in outputs]
    assert [r["results"] for r in reports] == [[5, 5, 5]] * 2
    assert reports[0]["module"] == reports[1]["module"]
    commands = [c for r in reports for c in r["commands"]]

    def runs(what: Callable[[list[str]], bool]) -> int:
        return sum(1 for c in commands if what(c))

    assert runs(lambda c: "ziglang" in c and nonce in " ".join(c)) == 1  # C -> wasm
    assert runs(lambda c: Path(c[0]).name == "wasm2c") == 1  # wasm -> C
    assert runs(lambda c: "cffi" in " ".join(c)) == 2  # the wasm2c and native extensions
    for kind in ("wasm", "preinit", "wasmtime", "wasm2c-src", "wasm2c", "native"):
        entries = [p.name for p in (tmp_path / "cache" / kind).iterdir()
                   if not p.name.startswith(".")]
        assert len(entries) == 1, (kind, entries)
