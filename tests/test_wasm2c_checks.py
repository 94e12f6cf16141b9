"""wasm2c's bounds checks merged per straight run and carried across joins
(backends/wasm2c/checks.py): which accesses share a check, what ends a run, what a
block's end and a loop's head still know, and that the pinned wasm2c writes every access
in the one form the pass reads. What the merged checks must still stop is in
c_src/hostile/modules/merged_checks_*.wat (tests/test_hostile_modules.py runs them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from libs import ROOT, assemble_wat

from sandboxlib.backends.wasm2c.checks import CHECKED, UNCHECKED
from sandboxlib.backends.wasm2c.checks import merge_checks as merge
from sandboxlib.backends.wasm2c.translate import (ACCESS_WIDTHS, HOOKS_ANCHOR, run_wasm2c,
                                                  translate)

MODULES = ROOT / "c_src" / "hostile" / "modules"


def merge_checks(source: str) -> str:
    return merge(source, ACCESS_WIDTHS)


def load(op: str, target: str, base: str, offset: int = 0) -> str:
    off = f" + {offset}u" if offset else ""
    return f"  {target} = {op}{CHECKED}(u64)({base}){off});"


def store(op: str, base: str, offset: int, value: str) -> str:
    return f"  {op}{CHECKED}(u64)({base}) + {offset}u, {value});"


def check(base: str, end: int) -> str:
    return f"  if (UNLIKELY((u64)({base}) + {end}u > wasm_rt_local_memory_size)) TRAP(OOB);"


@pytest.mark.quick
def test_accesses_through_copies_of_one_base_share_the_widest_check() -> None:
    code = ["  var_i0 = var_l3;", load("i32_load", "var_i0", "var_i0", 12),
            "  var_i1 = var_l3;", "  var_i2 = 5u;", "  var_i2 += var_i1;",
            store("i64_store", "var_i1", 40, "var_j2"), "  instance->w2c_g0 = var_i0;",
            load("i32_load8_u", "var_i1", "var_l3")]
    out = merge_checks("\n".join(code)).split("\n")
    assert out[1] == check("var_l3", 48)  # the i64 at 40 ends at 48
    assert out[2] == f"  var_i0 = i32_load{UNCHECKED}(u64)(var_i0) + 12u);"
    assert out[6] == f"  i64_store{UNCHECKED}(u64)(var_i1) + 40u, var_j2);"
    assert out[8] == f"  var_i1 = i32_load8_u{UNCHECKED}(u64)(var_l3));"
    assert len(out) == len(code) + 1


@pytest.mark.quick
@pytest.mark.parametrize("barrier", [
    "  if (var_i5) {goto var_B2;}", "  var_B2:;", "  var_L1: ", "  w2c_m_f(instance, var_i5);",
    "  var_i5 = I32_DIV_S(var_i5, var_i6);", "  var_i5 = w2c_m_f(instance);", "  }",
    "  wasm_rt_local_memory_size = instance->w2c_memory.size;", "  var_i5 = REM_U(var_i5, var_i6);",
    "  (void)TRAP(UNREACHABLE);", "  SBX_METER goto var_L1;", "  var_f5 = wasm_sqrtf(var_f5);",
])
def test_what_may_branch_trap_call_or_grow_the_memory_ends_the_run(barrier: str) -> None:
    code = [load("i32_load", "var_i0", "var_l3", 4), barrier,
            load("i32_load", "var_i1", "var_l3", 8)]
    assert merge_checks("\n".join(code)) == "\n".join(code)


@pytest.mark.quick
@pytest.mark.parametrize("simd", [
    "  var_o1 = simde_wasm_i16x8_add(var_o1, var_o2);", "  var_o1 = v128_const(0x07, 0xf8);",
    "  var_o1 = v128_i8x16_shuffle(var_o1, var_o2, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, "
    "6, 22, 7, 23);", "  var_o1 = v128_u8x16_narrow_i16x8(var_o1, var_o2);",
])
def test_simd_operations_continue_the_run(simd: str) -> None:
    code = [store("v128_store", "var_l3", 48, "var_o1"), simd,
            store("v128_store", "var_l3", 16, "var_o1")]
    out = merge_checks("\n".join(code)).split("\n")
    assert out[0] == check("var_l3", 64) and CHECKED not in "\n".join(out)


@pytest.mark.quick
@pytest.mark.parametrize("lane_access", [
    "  v128_store64_lane1(wasm_rt_local_memory_base, &instance->w2c_memory, (u64)(var_i5), "
    "var_o1);",
    "  var_o1 = v128_load8_lane3(wasm_rt_local_memory_base, &instance->w2c_memory, (u64)(var_i5), "
    "var_o1);",
    "  var_o1 = v128_load64_zero(wasm_rt_local_memory_base, &instance->w2c_memory, (u64)(var_i5));",
])
def test_simd_loads_and_stores_by_lane_still_end_the_run(lane_access: str) -> None:
    code = [load("i32_load", "var_i0", "var_l3", 4), lane_access,
            load("i32_load", "var_i1", "var_l3", 8)]
    assert merge_checks("\n".join(code)) == "\n".join(code)


@pytest.mark.quick
@pytest.mark.parametrize("between", [
    "  var_l3 = var_i4;", "  var_l3 += var_i4;", "  var_l3 = 7u;",
    "  var_l3 = i32_load_default32(wasm_rt_local_memory_base, wasm_rt_local_memory_size, "
    "&instance->w2c_memory, (u64)(var_i4));",
])
def test_a_base_assigned_between_two_accesses_is_another_base(between: str) -> None:
    code = [load("i32_load", "var_i0", "var_l3", 4), between,
            load("i32_load", "var_i1", "var_l3", 8)]
    out = merge_checks("\n".join(code))
    assert out.count(CHECKED) == 2 + ("i32_load" in between) and "TRAP" not in out


@pytest.mark.quick
def test_a_copy_keeps_the_value_it_copied_when_the_original_changes() -> None:
    # q = p; p = 0; then p[1] and q[2]: two bases, no merge of q's access into p's group
    code = ["  var_l1 = var_l0;", "  var_i0 = 0u;", "  var_l0 = var_i0;",
            load("i32_load", "var_i1", "var_l0", 4), load("i32_load", "var_i2", "var_l1", 8)]
    assert merge_checks("\n".join(code)) == "\n".join(code)
    # and a copy made after the change is the new value: merged
    code[3:3] = ["  var_l1 = var_l0;"]
    assert check("var_i0", 12) in merge_checks("\n".join(code))  # var_l0 copies var_i0


@pytest.mark.quick
def test_accesses_the_pass_does_not_know_stay_checked() -> None:
    code = [load("i32_load", "var_i0", "var_l3", 4),
            load("i32_atomic_load", "var_i2", "var_l3", 6),
            load("i32_load", "var_i1", "var_l3", 8)]
    out = merge_checks("\n".join(code)).split("\n")
    assert out[0] == check("var_l3", 12) and out[2] == code[1]
    assert "i32_atomic_load" not in ACCESS_WIDTHS


@pytest.mark.parametrize("name", ["merged_checks_far_after_near", "merged_checks_stores_between",
                                  "merged_checks_simd_between",
                                  "merged_checks_in_bounds"])
def test_the_hostile_modules_of_merged_checks_get_merged_checks(name: str, tmp_path: Path) -> None:
    """So the attacks in merged_checks_*.wat meet merged checks, not wasm2c's own."""
    source = translate(assemble_wat(MODULES / f"{name}.wat", tmp_path)).source.read_text()
    body = source[source.index("w2c_m_answer_0(w2c_m* instance"):]
    body = body[:body.index("\n}\n")]
    assert "TRAP(OOB);" in body and CHECKED not in body


def test_every_access_of_the_pinned_wasm2c_is_in_the_form_the_pass_reads(
        hostile_lib: object, tmp_path: Path) -> None:
    wasm = hostile_lib.wasm_module()  # type: ignore[attr-defined]
    code = run_wasm2c(wasm, wasm.read_bytes(), tmp_path)
    code = code[code.index(HOOKS_ANCHOR):]
    calls = re.findall(r"\b(\w+)_default32\(", code)
    forms = re.findall(r"\b(\w+)" + re.escape(CHECKED) + r"\(u64\)\(var_[a-z]\d+\)", code)
    assert calls and sorted(calls) == sorted(forms)
    assert {op for op in calls if op in ACCESS_WIDTHS} >= {"i32_load", "i32_store", "i32_load8_u"}
    merged = merge_checks(code)
    assert merged.count(UNCHECKED) > 0
    assert merged.count(CHECKED) + merged.count(UNCHECKED) == code.count(CHECKED)


@pytest.mark.quick
def test_a_copy_keeps_its_value_when_the_original_changes_in_place() -> None:
    # q = t; t -= 65532; then q[2] and t[1]: q's access is not t's (merged_checks_copy_...)
    code = ["  var_l1 = var_i0;", "  var_i1 = 65532u;", "  var_i0 -= var_i1;",
            "  var_i1 = var_l1;", load("i32_load", "var_i1", "var_i1", 8),
            store("i32_store", "var_i0", 4, "var_i1")]
    assert merge_checks("\n".join(code)) == "\n".join(code)


@pytest.mark.quick
def test_a_check_passed_covers_later_accesses_in_its_block_and_the_blocks_within() -> None:
    first = load("i32_load", "var_i0", "var_l3", 12)  # checks var_l3 + 16
    covered = load("i32_load8_u", "var_i1", "var_l3", 15)
    beyond = load("i32_load", "var_i1", "var_l3", 16)
    code = [first, "  if (var_i0) {goto var_B1;}", "  w2c_m_f(instance);", "  if (var_i0) {",
            covered, beyond, "  }", covered]
    out = merge_checks("\n".join(code)).split("\n")
    assert out[0] == first and "TRAP" not in "\n".join(out)
    assert out[4] == out[7] == f"  var_i1 = i32_load8_u{UNCHECKED}(u64)(var_l3) + 15u);"
    assert out[5] == beyond


@pytest.mark.quick
@pytest.mark.parametrize("between", [
    # a label that is not a block's end, or one reached by more than plain gotos before it
    ["  var_T2_catch:;"], ["  var_B1:;", "  goto var_B1;"],
    ["  var_B1:;", "  var_B1:;"], ["  var_B1:;", "  var_i0 = var_B1;"], ["  var_l3 = var_i4;"],
    ["}", "u32 w2c_m_g(w2c_m* instance) {"],
    # a loop whose body assigns the base, before or after the access at its head
    ["  var_L2: ", "    var_l3 = var_i4;", "    SBX_METER goto var_L2;"],
    ["  var_L2: ", "    var_l3 += var_i4;", "    if (var_i0) {SBX_METER goto var_L2;}"],
    ["  if (var_i0) {", "    var_l3 = var_i4;", "  }"],
    ["  if (var_i0) {", "  } else {", "    var_l3 += var_i4;", "  }"],
    # assignments wasm2c does not write today (a divide-assign, one inside an expression)
    ["  var_l3 /= var_i4;"], ["  var_l3 %= var_i4;"], ["  var_i5 = (var_l3 = var_i4);"],
    ["  var_i5 = var_i6;", "  var_i7 = (var_l3 = var_i4) + 1u;"],
])
def test_a_join_a_function_edge_or_a_change_of_the_base_forgets_the_check(
        between: list[str]) -> None:
    code = [load("i32_load", "var_i0", "var_l3", 12), *between,
            load("i32_load", "var_i1", "var_l3", 4)]
    assert merge_checks("\n".join(code)) == "\n".join(code)


@pytest.mark.quick
@pytest.mark.parametrize("moves", [True, False])
def test_a_loop_head_keeps_the_checks_of_bases_its_body_leaves_alone(moves: bool) -> None:
    before = load("i32_load", "var_i0", "var_l3", 12)  # checks var_l3 + 16
    in_loop = "  " + load("i32_load", "var_i1", "var_l3", 8)
    nested = ["    var_L5: ", "      var_i2 += var_i1;", "#if X", "#endif",  # at the margin
              "      var_l3 = var_i2;" if moves else "      var_l4 = var_i2;",
              "      if (var_i2) {SBX_METER goto var_L5;}"]
    code = [before, "  var_L2: ", in_loop, "    if (var_i0) {SBX_METER goto var_L2;}", *nested,
            "    SBX_METER goto var_L2;", "  var_B1:;", in_loop]
    out = merge_checks("\n".join(code)).split("\n")
    assert out[0] == before and "TRAP" not in "\n".join(out)
    # the access in the loop: a round after the nested loop moved var_l3 must check it
    assert (CHECKED in out[2]) == moves and (UNCHECKED in out[2]) == (not moves)
    assert out[-1] == in_loop  # after the loop's end label: a join, nothing is known


@pytest.mark.quick
@pytest.mark.parametrize(("ways", "known"), [
    # every goto to the block's end and the code falling into it checked var_l3 + 16
    (["  if (var_i0) {goto var_B1;}", "  switch (var_i1) {", "    case 0: goto var_B1;",
      "    default: goto var_B2;", "  }"], True),
    # the way falling into it is dead code: only the goto counts
    (["  if (var_i0) {goto var_B1;}", "  var_l3 = var_i4;", "  goto var_B2;"], True),
    (["  if (var_i0) {goto var_B1;}", "  var_l3 = var_i4;", "  UNREACHABLE;"], True),
    # a way on which var_l3 changed, or was not checked that far
    (["  if (var_i0) {goto var_B1;}", "  var_l3 = var_i4;"], False),
    (["  if (var_i0) {", "    var_l3 = var_i4;", "    goto var_B1;", "  }", "  goto var_B2;"],
     False),
    (["  if (var_i0) {goto var_B1;}", "  var_l3 = var_i4;",
      load("i32_load", "var_i0", "var_l3", 0)], False),
    # preprocessor lines at the margin (wasm2c's after a call_indirect or memory.grow)
    # between the goto of a way that moved var_l3 and the block's end: still a way in
    (["  if (var_i0) {", "    var_l3 = var_i4;", "    goto var_B1;", "  }", "#if X", "#endif",
      load("i32_load", "var_i0", "var_l3", 12)], False),
])
def test_a_block_end_knows_what_held_on_every_way_into_it(ways: list[str], known: bool) -> None:
    code = [load("i32_load", "var_i0", "var_l3", 12), *ways, "  var_B1:;",
            load("i32_load", "var_i1", "var_l3", 4)]
    out = merge_checks("\n".join(code)).split("\n")
    assert "TRAP" not in "\n".join(out)
    assert (UNCHECKED in out[-1]) == known and (CHECKED in out[-1]) == (not known)


@pytest.mark.quick
def test_a_block_end_meets_ways_checked_to_different_ends() -> None:
    code = [load("i32_load", "var_i0", "var_l3", 12), "  if (var_i0) {goto var_B1;}",
            "  " + load("i32_load", "var_i0", "var_l3", 28), "  var_B1:;",
            load("i32_load", "var_i1", "var_l3", 12), load("i32_load", "var_i1", "var_l3", 16)]
    out = merge_checks("\n".join(code)).split("\n")
    assert UNCHECKED in out[-2] and CHECKED in out[-1]  # 16 on one way, 32 on the other
