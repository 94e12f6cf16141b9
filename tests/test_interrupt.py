"""Stopping a running call: Ctrl-C (SIGINT) reaches a sandboxed call on both isolating
backends, with or without a time limit, and another thread can cancel one with
``Sandbox.interrupt()``. The call ends, the sandbox is poisoned, the host and other
sandboxes go on. Each case runs in a child process: a call that cannot be stopped
spins forever (``hostile_spin``), and the child's timeout turns that into a failure
instead of a hung suite."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from libs import hostile_library, plain, sample_library, sigint_as_python_starts_it

from sandboxlib import Interrupted, Limits, PoisonedError, SandboxError
from sandboxlib.backends.wasm2c._csrc import CSRC

HANG_GUARD = 120.0  # seconds; only there so that a regression fails instead of hanging

CHILD_PRELUDE = """
import os, signal, sys, threading, time
from libs import hostile_library, plain
from sandboxlib import Interrupted, Limits, PoisonedError
lib = hostile_library()
backend, timeout = sys.argv[1], (float(sys.argv[2]) or None)
limits = Limits(timeout=timeout)
"""

SIGINT_DURING_A_CALL = CHILD_PRELUDE + """
sb = lib.sandbox(backend, limits=limits)
bystander = lib.sandbox(backend, limits=limits)
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
start = time.monotonic()
try:
    sb.hostile_spin()  # forever, unless stopped
except KeyboardInterrupt:
    print(f"KeyboardInterrupt after {time.monotonic() - start:.2f} s")
assert sb.poisoned is not None and "KeyboardInterrupt" in sb.poisoned, sb.poisoned
try:
    sb.hostile_ok(1)
except PoisonedError:
    print("poisoned")
assert plain(bystander.hostile_ok(2)) == 4
with lib.sandbox(backend, limits=limits) as fresh:
    assert plain(fresh.hostile_ok(3)) == 6
print("others fine")
"""


def _child(script: str, backend: str, timeout: float = 0.0) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", script, backend, str(timeout)],
                          capture_output=True, text=True, cwd=Path(__file__).parent,
                          timeout=HANG_GUARD, preexec_fn=sigint_as_python_starts_it)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.parametrize("timeout", [0.0, 3600.0], ids=["no-time-limit", "time-limit"])
def test_ctrl_c_stops_a_running_call(isolating_backend: str, timeout: float) -> None:
    """SIGINT 0.3 s into a call that never ends raises KeyboardInterrupt from it (with
    a time limit: now, not when the limit ends the call an hour later)."""
    out = _child(SIGINT_DURING_A_CALL, isolating_backend, timeout)
    assert out[0].startswith("KeyboardInterrupt after ") and out[1:] == ["poisoned",
                                                                          "others fine"], out
    print(out[0])  # how long it took (a benchmark's number, not a threshold)


HANDLER_THAT_RETURNS = CHILD_PRELUDE + """
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))  # after the import
sb = lib.sandbox(backend, limits=limits)  # puts the watch in front of the new handler
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    sb.hostile_spin()
except Interrupted as exc:
    print(f"Interrupted: {exc}")
print(f"handler ran {seen.count(signal.SIGINT)} time(s)")
"""


def test_a_signal_handler_that_raises_nothing_still_stops_the_call(
        isolating_backend: str) -> None:
    """Python's handler runs (once); the call ends with Interrupted, since the state of
    the code it stopped is unknown."""
    out = _child(HANDLER_THAT_RETURNS, isolating_backend)
    assert out == ["Interrupted: hostile_spin(): the call was stopped by a signal (SIGINT) "
                   "whose handler raised nothing", "handler ran 1 time(s)"], out


SIGINT_BEFORE_A_CALL = CHILD_PRELUDE + """
from libs import sample_library
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))  # after the import
sample = sample_library()
sb = sample.sandbox(backend, limits=limits)  # puts the watch in front of the new handler
os.kill(os.getpid(), signal.SIGINT)  # no call runs: Python's handler runs, and that is all
data = bytes(range(256)) * 4096
with sample.sandbox("native") as reference:
    expected = plain(reference.sample_checksum(data, len(data)))
print(plain(sb.sample_checksum(data, len(data))) == expected)  # a loop over 1 MiB
print(f"handler ran {seen.count(signal.SIGINT)} time(s)")
"""


def test_a_signal_handled_before_a_call_does_not_stop_it(isolating_backend: str) -> None:
    """The clock the signal stopped is put back when the main thread's next call starts
    (wasm2c's checks fire only to stop a call: it cannot go on after one fires)."""
    assert _child(SIGINT_BEFORE_A_CALL, isolating_backend) == ["True", "handler ran 1 time(s)"]


SIGINT_WHILE_ANOTHER_THREAD_CALLS = CHILD_PRELUDE + """
worker_sb = lib.sandbox(backend, limits=limits)
outcome = []

def work():
    try:
        worker_sb.hostile_spin()
    except Interrupted:
        outcome.append("worker interrupted")

worker = threading.Thread(target=work)
worker.start()
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("main: KeyboardInterrupt")
time.sleep(0.2)
print("worker still running" if worker.is_alive() else "worker stopped")
while not worker_sb.interrupt():  # its call may not have started yet on a busy machine
    time.sleep(0.01)
worker.join()
print(outcome[0])
"""


def test_ctrl_c_is_for_the_main_thread(isolating_backend: str) -> None:
    """Python raises KeyboardInterrupt in the main thread: a call another thread runs
    goes on (until that thread's own interrupt())."""
    out = _child(SIGINT_WHILE_ANOTHER_THREAD_CALLS, isolating_backend)
    assert out == ["main: KeyboardInterrupt", "worker still running", "worker interrupted"], out


SIGINT_AFTER_A_CALL_ON_ANOTHER_THREAD = CHILD_PRELUDE + """
sb = lib.sandbox(backend, limits=limits)
worker = threading.Thread(target=lambda: print("worker", plain(sb.hostile_ok(1))))
worker.start()
worker.join()
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    sb.hostile_spin()  # forever, unless stopped
except KeyboardInterrupt:
    print("main: KeyboardInterrupt")
"""


def test_each_call_checks_its_own_thread_clock(isolating_backend: str) -> None:
    """Compiled code reads the pointer to its call's clock once per function (hooks.h's
    SBX_CLOCK): a sandbox's call on the main thread, after one on another thread, still
    stops for Ctrl-C (the main thread's clock is the call's, not the last call's)."""
    out = _child(SIGINT_AFTER_A_CALL_ON_ANOTHER_THREAD, isolating_backend)
    assert out == ["worker 2", "main: KeyboardInterrupt"], out


SIGINT_IN_A_CALL_FROM_A_CALLBACK = CHILD_PRELUDE + """
from sandboxlib import Prim, Signature
outer, inner = lib.sandbox(backend, limits=limits), lib.sandbox(backend, limits=limits)
cb = outer.callback(lambda v: plain(inner.hostile_spin()), Signature((Prim.INT,), Prim.INT))
for sb, run in ((inner, lambda: outer.hostile_call(cb, 1)),
                (lib.sandbox(backend, limits=limits), None)):
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        run() if run else sb.hostile_spin()  # forever, unless stopped
    except KeyboardInterrupt:
        print("KeyboardInterrupt", sb.poisoned is not None)
"""


@pytest.mark.parametrize("timeout", [0.0, 3600.0], ids=["no-time-limit", "time-limit"])
def test_ctrl_c_stops_a_call_made_from_a_callback(isolating_backend: str,
                                                   timeout: float) -> None:
    """A call into one sandbox from another's callback, both on the main thread, stops
    for Ctrl-C; so does the main thread's next call, after both ended (on wasm2c the
    signal handler walks the main thread's running calls: _clock.h)."""
    out = _child(SIGINT_IN_A_CALL_FROM_A_CALLBACK, isolating_backend, timeout)
    assert out == ["KeyboardInterrupt True", "KeyboardInterrupt True"], out


def test_interrupt_from_another_thread(isolating_backend: str) -> None:
    lib = hostile_library()
    sb = lib.sandbox(isolating_backend)
    other = lib.sandbox(isolating_backend)
    assert sb.interrupt() is False  # no call runs
    assert plain(sb.hostile_ok(1)) == 2  # ... and none is stopped later for it
    results: list[bool] = []
    done = threading.Event()

    def cancel() -> None:
        while not done.is_set():
            if sb.interrupt():
                results.append(True)
                return
            done.wait(0.01)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    try:
        with pytest.raises(Interrupted, match=r"hostile_spin\(\).*interrupt"):
            sb.hostile_spin()  # forever, unless stopped
    finally:
        done.set()
        canceller.join()
    assert results == [True]
    assert sb.poisoned is not None
    with pytest.raises(PoisonedError):
        sb.hostile_ok(1)
    assert plain(other.hostile_ok(2)) == 4
    sb.close()
    assert sb.interrupt() is False
    other.close()


def test_the_native_backend_cannot_interrupt_a_call() -> None:
    with sample_library().sandbox("native") as sb:
        with pytest.raises(SandboxError, match="native backend cannot interrupt"):
            sb.interrupt()
        assert plain(sb.sample_add(2, 3)) == 5


def test_uninterruptible_sandboxes_refuse_interrupt(isolating_backend: str) -> None:
    """Limits(interruptible=False): compiled without the checks, so interrupt() says it
    cannot stop a call instead of promising to; calls work as before."""
    with hostile_library().sandbox(isolating_backend,
                                   limits=Limits(interruptible=False)) as sb:
        assert plain(sb.hostile_ok(2)) == 4
        with pytest.raises(SandboxError, match=r"Limits\(interruptible=False\)"):
            sb.interrupt()
        assert sb.poisoned is None and plain(sb.hostile_ok(3)) == 6


def test_a_timeout_needs_interruptible_calls() -> None:
    with pytest.raises(ValueError, match="timeout needs interruptible"):
        Limits(timeout=1.0, interruptible=False)


# hooks.h's SBX_METER guarding a loop's back-edge, as translate.py writes it, with a
# stand-in sbx.h: every check fires, and the stand-in sbx_attend returns (the real one
# never does: every firing is a stop), which must still not skip the statement the check
# guards.
STAND_IN_SBX_H = """
#include <stdint.h>
typedef uint64_t u64;
typedef struct { uint32_t stop; } sbx_watch;
typedef struct { int64_t fuel; sbx_watch watch; } sbx_state;
#define SBX_STATE(inst) (inst)
#define UNLIKELY(x) (x)
static int attended;
static void sbx_attend(sbx_state* st) { attended++; }
"""
LOOP_OF_FIVE = """
#include <stdio.h>
#include "hooks.h"
int main(void) {
  sbx_state state = {1 << 20, {1}}, *instance = &state;
  int n = 0;
var_L1:
  n++;
  if (n < 5) SBX_METER goto var_L1;
  printf("%d %d", n, attended);
  return 0;
}
"""


@pytest.mark.parametrize("metered", [0, 1, 2])
def test_a_check_that_returns_still_runs_the_statement_it_guards(metered: int,
                                                                  tmp_path: Path) -> None:
    """A loop runs every iteration when its check fires and sbx_attend returns (it used to
    skip the back-edge: the loop ended early, a silently wrong result)."""
    (tmp_path / "hooks.h").write_text((CSRC / "hooks.h").read_text())
    (tmp_path / "sbx.h").write_text(STAND_IN_SBX_H)
    (tmp_path / "loop.c").write_text(LOOP_OF_FIVE)
    subprocess.run(["gcc", f"-DSBX_METERED={metered}", "-o", str(tmp_path / "loop"),
                    str(tmp_path / "loop.c")], check=True)
    out = subprocess.run([str(tmp_path / "loop")], capture_output=True, text=True, check=True)
    assert out.stdout == ("5 0" if metered == 0 else "5 4"), out.stdout
