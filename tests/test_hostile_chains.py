"""Hostile modules against the prologue checks wasm2c keeps only where the call graph
needs them (backends/wasm2c/prologues.py): a long chain of functions that calls no
function twice, never recurses and has no loop, each frame holding many values across
its call. On a thread with a small native stack it must end in the stack trap (or its
answer), never take the process down; and interrupt() stops a call tree of 2**64
calls with no loop and no recursion. Each runs in a child process, so a crash or a
hang fails the test instead of the suite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from libs import HOSTILE, assemble_wat

# ~200 KiB of frames: past the end of a 192 KiB thread's stack, if nothing checked
DEPTH, WIDTH = 1600, 16
STACK = 192 << 10
HANG_GUARD = 600.0  # seconds (the first run compiles ~3 MB of C); only against hangs


def chain_wat(depth: int, width: int) -> str:
    """Functions f0..f<depth>: each loads ``width`` values, then calls the next, then
    combines them with its result (so they live across the call, in its frame)."""
    out = ['(module (memory (export "memory") 1)']
    for i in range(depth):
        nested = f"(call $f{i + 1} (local.get 0))"
        for k in range(width):  # xor and mul in turn: nothing to combine before the call
            op = ("i64.xor", "i64.mul")[k % 2]
            at = 8 * (width * (i % 256) + width - 1 - k)  # its own (none to merge inlined)
            nested = f"({op} (i64.load offset={at} (local.get 0)) {nested})"
        out.append(f"(func $f{i} (param i32) (result i64) {nested})")
    out.append(f"(func $f{depth} (param i32) (result i64) "
               "(i64.store (local.get 0) (i64.const 1)) (i64.const 1))")
    out.append('(func (export "answer") (result i32) (i32.wrap_i64 (call $f0 (i32.const 0)))))')
    return "\n".join(out)


CHILD = """
import sys, threading
from pathlib import Path
from sandboxlib import Function, Library, Prim, Signature, TrapError
lib = Library("chain", (Function("answer", Signature((), Prim.INT)),), wasm=Path(sys.argv[1]))
outcome = []
def run():
    with lib.sandbox(sys.argv[2]) as sb:
        try:
            outcome.append(f"answer {sb.answer().unverified_safe_because('a test')}")
        except TrapError as exc:
            outcome.append(f"trap {exc.kind.value}: {exc}")
threading.stack_size(int(sys.argv[3]))
t = threading.Thread(target=run)
t.start()
t.join()
print(*outcome)
"""


def test_a_deep_chain_of_big_frames_on_a_small_stack_traps(tmp_path: Path) -> None:
    """No function of the chain recurses, so few keep the stack check: enough that the
    stack runs out in a check, not past the thread's end (a crash)."""
    wat = tmp_path / "chain.wat"
    wat.write_text(chain_wat(DEPTH, WIDTH))
    wasm = assemble_wat(wat, tmp_path)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(wasm), "wasm2c", str(STACK)],
                          capture_output=True, text=True, timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # in the chain (a function of it named), not refused at the call's entry
    assert re.match(r"trap stack overflow: .*\bf\d+\b", proc.stdout), proc.stdout


INTERRUPTED = """
import sys, threading
from pathlib import Path
from sandboxlib import Function, Interrupted, Library, Prim, Signature
lib = Library("tree", (Function("answer", Signature((), Prim.INT)),), wasm=Path(sys.argv[1]))
with lib.sandbox(sys.argv[2]) as sb:
    threading.Timer(0.3, sb.interrupt).start()
    try:
        sb.answer()
    except Interrupted as exc:
        print("interrupted:", exc)
"""


def test_interrupt_stops_a_call_tree_with_no_loop_and_no_recursion(
        tmp_path: Path, isolating_backend: str) -> None:
    """2**64 calls, each function calling the next twice: only checks at calls see the
    interrupt (c_src/hostile/modules/call_tree_exponential.wat)."""
    wasm = assemble_wat(HOSTILE / "modules" / "call_tree_exponential.wat", tmp_path)
    proc = subprocess.run([sys.executable, "-c", INTERRUPTED, str(wasm), isolating_backend],
                          capture_output=True, text=True, timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("interrupted:"), proc.stdout
