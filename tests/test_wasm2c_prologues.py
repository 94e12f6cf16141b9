"""Which prologue checks each translated function keeps (backends/wasm2c/prologues.py),
on C written the way wasm2c writes it: recursion and calls the graph cannot follow keep
both, chains of direct calls keep enough that neither the native stack nor the time
between stop checks can grow without bound. (The hostile modules call_tree_exponential,
tail_call_*, and test_hostile's deep chain run the same on real modules.)"""

from __future__ import annotations

import re

import pytest

from sandboxlib.backends.wasm2c.prologues import (COST, PROLOGUE, STACK_BUDGET, WORK_BUDGET,
                                                  place_prologues)

pytestmark = pytest.mark.quick


def function(name: str, *calls: str, body: str = "") -> str:
    lines = "".join(f"  var_i0 = {c}(instance, var_i0);\n" if c.startswith("w2c_")
                    else f"  {c}\n" for c in calls)
    return (f"u32 w2c_m_{name}(w2c_m* instance, u32 var_p0) {{\n  u32 var_i0;\n{PROLOGUE}"
            f"{lines}{body}  return var_i0;\n}}\n\n")


def checks(source: str) -> dict[str, tuple[bool, bool]]:
    """Each function's (stack check, stop check) after placement."""
    placed = place_prologues(source)
    found, noinline = {}, {}
    for m in re.finditer(r"^(SBX_NOINLINE )?u32 w2c_m_(\w+)\(.*\{\n  u32 var_i0;\n  (.*);$",
                         placed, re.M):
        kind = m[3]
        found[m[2]] = (True, True) if kind == "FUNC_PROLOGUE" else (
            kind[13] == "1", kind[16] == "1")
        noinline[m[2]] = bool(m[1])
    for name, (stack, _) in found.items():  # checked, called by an unchecked one: not inlined
        callers = re.findall(rf"^(?:SBX_NOINLINE )?u32 w2c_m_(\w+)\(.*\{{\n  u32 var_i0;\n  "
                             rf"SBX_PROLOGUE\(0, .*\n(?:  .*\n)*?  .*w2c_m_{name}\(", placed, re.M)
        assert noinline[name] == (stack and bool(callers)), name
    return found


def test_a_leaf_and_a_short_chain_keep_no_check() -> None:
    source = function("a", "w2c_m_b") + function("b", "w2c_m_c") + function("c")
    assert checks(source) == dict.fromkeys("abc", (False, False))


@pytest.mark.parametrize("source", [
    function("a", "w2c_m_a"),
    function("a", "w2c_m_b") + function("b", "w2c_m_c") + function("c", "w2c_m_a"),
], ids=["self", "cycle"])
def test_recursion_keeps_both_checks(source: str) -> None:
    assert set(checks(source).values()) == {(True, True)}


@pytest.mark.parametrize("call", [
    "var_i0 = CALL_INDIRECT(instance->w2c_T0, u32 (*)(void*, u32), w2c_m_t0, var_i0, x);",
    "var_i0 = w2c_wasi__snapshot__preview1_fd_write(instance->w2c_wasi, 1, 2, 3, 4);",
    "while (next->fn) { next->fn(instance_ptr, tail_call_stack, next); }",
    "next->fn = wasm_tailcall_w2c_m_b;",
], ids=["indirect", "import", "trampoline", "tail-call"])
def test_a_call_the_graph_cannot_follow_keeps_both_checks(call: str) -> None:
    """A host callback in the table, or an import, may re-enter any export; a tail
    call's trampoline runs functions the graph does not see."""
    found = checks(function("a", call) + function("b", "w2c_m_c") + function("c"))
    assert found == {"a": (True, True), "b": (False, False), "c": (False, False)}


def test_a_long_chain_gets_stack_checks_often_enough() -> None:
    """Along any chain of direct calls, the functions between two stack checks have at
    most STACK_BUDGET of text (and so of frames) together."""
    pad = "  var_i0 += 1u;\n" * 40
    n = 400
    source = "".join(function(f"f{i}", f"w2c_m_f{i + 1}", body=pad) for i in range(n))
    source += function(f"f{n}", body=pad)
    found = checks(source)
    size = len(function("f1", "w2c_m_f2", body=pad)) + COST
    run = longest = 0
    for i in range(n + 1):
        run = 0 if found[f"f{i}"][0] else run + size
        longest = max(longest, run)
    assert 0 < longest <= STACK_BUDGET + size
    # a chain's run time is the sum of its functions' (WORK_BUDGET): fewer stop checks
    assert 0 < sum(stop for _, stop in found.values()) < sum(s for s, _ in found.values())


def test_a_tree_of_calls_gets_stop_checks_often_enough() -> None:
    """Each function calling the next twice: 2**n calls with no loop and no cycle. The
    calls run between two stop checks are bounded by WORK_BUDGET of text."""
    n = 64
    source = "".join(function(f"f{i}", f"w2c_m_f{i + 1}", f"w2c_m_f{i + 1}")
                     for i in range(n)) + function(f"f{n}")
    found = checks(source)
    stops = [i for i in range(n + 1) if found[f"f{i}"][1]]
    gaps = [b - a for a, b in zip([-1, *stops], [*stops, n + 1])]
    size = len(function("f1", "w2c_m_f2", "w2c_m_f2")) + COST
    assert stops and size * 2 ** max(gaps) <= 2 * WORK_BUDGET + 2 * size

