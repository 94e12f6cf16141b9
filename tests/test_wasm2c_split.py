"""The module's largest functions in a translation unit of their own, compiled without
the IR's loop-invariant code motion (backends/wasm2c/split.py): a module whose function
is over ``LARGE`` computes what it did, on every isolating backend, and that function
still traps where it must (its bounds checks, a call_indirect of the wrong type)."""

from __future__ import annotations

from pathlib import Path

import pytest
from libs import assemble_wat, plain

from sandboxlib import Function, Library, Limits, Prim, Signature, TrapError
from sandboxlib.backends.wasm2c import split
from sandboxlib.backends.wasm2c.translate import insert_hooks, run_wasm2c, translate

MASK = (1 << 32) - 1
ROUNDS = 1200  # the large function's straight-line steps: about 300 KB of C
WORDS = 1024
ROUNDS_RUN = 3
OOB_BASE = 0xFFFF0000


def large_module(rounds: int, throwing: bool = False) -> str:
    """A module whose ``$big`` runs ``rounds`` steps (each reads a word of memory at
    ``$base``, mixes it into an accumulator and stores that back), then calls ``$small``
    directly, ``$pair`` (two results) and ``$small`` through the table, in a loop;
    ``mode`` 1 makes its indirect call with the wrong type, and ``mode`` 2 throws the
    accumulator to ``thrown`` (``throwing``: the module has a tag)."""
    steps = "\n".join(
        f"      (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31))"
        f" (i32.load offset={4 * (k % WORDS)} (local.get $base))))\n"
        f"      (i32.store offset={4 * (k % WORDS)} (local.get $base) (local.get $acc))"
        for k in range(rounds))
    tag = "(tag $jump (param i32))" if throwing else ""
    throw = ("(if (i32.eq (local.get $mode) (i32.const 2)) (then (throw $jump (local.get $acc))))"
             if throwing else "")
    thrown = """(func (export "thrown") (result i32)
    (block $caught (result i32)
      (try_table (catch $jump $caught)
        (drop (call $big (i32.const 1) (i32.const 0) (i32.const 2))))
      (i32.const -1)))""" if throwing else ""
    return f"""(module
  (type $one (func (param i32) (result i32)))
  (type $two (func (param i32 i32) (result i32)))
  {tag}
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 1 funcref)
  (elem (i32.const 0) $small)
  (func $small (type $one) (i32.add (local.get 0) (i32.const 7)))
  (func $pair (param i32) (result i32 i32) (local.get 0) (i32.const 1))
  (func $big (param $n i32) (param $base i32) (param $mode i32) (result i32)
    (local $acc i32) (local $i i32)
    (loop $again
{steps}
      (local.set $acc (call $small (local.get $acc)))
      (local.set $acc (i32.add (call $pair (local.get $acc))))
      (if (i32.eq (local.get $mode) (i32.const 1))
        (then (local.set $acc (call_indirect (type $two) (local.get $acc) (local.get $acc)
                                             (i32.const 0)))))
      {throw}
      (local.set $acc (call_indirect (type $one) (local.get $acc) (i32.const 0)))
      (br_if $again (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                              (local.get $n))))
    (local.get $acc))
  (func (export "answer") (result i32)
    (call $big (i32.const {ROUNDS_RUN}) (i32.const 0) (i32.const 0)))
  (func (export "out_of_bounds") (result i32)
    (call $big (i32.const 1) (i32.const {OOB_BASE}) (i32.const 0)))
  (func (export "wrong_type") (result i32) (call $big (i32.const 1) (i32.const 0) (i32.const 1)))
  {thrown})
"""


def steps(memory: list[int], acc: int, rounds: int) -> int:
    """``$big``'s steps from ``acc`` over ``memory`` (a word a step, updated)."""
    for k in range(rounds):
        acc = (acc * 31 + memory[k % WORDS]) & MASK
        memory[k % WORDS] = acc
    return acc


def expected_answer(rounds: int, memory: list[int] | None = None) -> int:
    """What ``answer`` returns (``memory``: the words it leaves), as a signed C int."""
    memory = [0] * WORDS if memory is None else memory
    acc = 0
    for _ in range(ROUNDS_RUN):
        acc = (steps(memory, acc, rounds) + 15) & MASK
    return signed(acc)


def signed(value: int) -> int:
    return value - (1 << 32) if value >> 31 else value


FUNCTIONS = tuple(Function(name, Signature((), Prim.INT))
                  for name in ("answer", "out_of_bounds", "wrong_type"))


@pytest.fixture(scope="module")
def large_wasm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("split")
    wat = out / "large_function.wat"
    wat.write_text(large_module(ROUNDS))
    return assemble_wat(wat, out)


def test_a_function_over_the_threshold_gets_a_unit_of_its_own(large_wasm: Path) -> None:
    large = translate(large_wasm).large_source
    assert large is not None
    text = large.read_text()
    assert "w2c_m_f2(w2c_m* instance, u32 var_p0, u32 var_p1, u32 var_p2) {" in text
    assert "FUNC_TYPE_DECL_EXTERN_T(w2c_m_t0);" in text
    main = translate(large_wasm).source.read_text()
    assert "w2c_m_f2(w2c_m* instance, u32 var_p0, u32 var_p1, u32 var_p2) {" not in main
    assert "\nu32 w2c_m_f2(w2c_m*, u32, u32, u32);" in main  # declared extern, defined there
    assert "\nu32 w2c_m_f0(w2c_m*, u32);" in main  # the callees it shares
    assert "\nstruct wasm_multi_ii w2c_m_f1(w2c_m*, u32);" in main
    assert "FUNC_TYPE_EXTERN_T(w2c_m_t0) = " in main


def test_a_module_with_a_large_function_computes_what_it_did(
        large_wasm: Path, isolating_backend: str) -> None:
    library = Library("large_function", FUNCTIONS, wasm=large_wasm)
    with library.sandbox(isolating_backend, limits=Limits(timeout=10.0)) as sb:
        assert plain(sb.answer()) == expected_answer(ROUNDS)


@pytest.mark.parametrize("export, trap", [("out_of_bounds", "out-of-bounds memory access"),
                                          ("wrong_type", "indirect call type mismatch")])
def test_the_large_function_still_traps(large_wasm: Path, isolating_backend: str,
                                        export: str, trap: str) -> None:
    library = Library("large_function", FUNCTIONS, wasm=large_wasm)
    with library.sandbox(isolating_backend, limits=Limits(timeout=10.0)) as sb:
        with pytest.raises(TrapError, match=trap):
            getattr(sb, export)()


@pytest.mark.quick
def test_a_module_without_large_functions_stays_one_unit(tmp_path: Path) -> None:
    wat = tmp_path / "small.wat"
    wat.write_text(large_module(4))
    wasm = assemble_wat(wat, tmp_path)
    source = insert_hooks(run_wasm2c(wasm, wasm.read_bytes(), tmp_path), wasm)
    assert split.split_large(source) == (source, None)


def test_a_large_function_naming_a_tag_stays_where_the_tag_is(
        tmp_path: Path, isolating_backend: str) -> None:
    """A tag is known by its address, defined after the part the units share: the
    function throwing it is not moved, and a catch still knows what it threw."""
    wat = tmp_path / "large_throwing.wat"
    wat.write_text(large_module(ROUNDS, throwing=True))
    wasm = assemble_wat(wat, tmp_path)
    assert translate(wasm).large_source is None
    functions = (*FUNCTIONS, Function("thrown", Signature((), Prim.INT)))
    with Library("large_throwing", functions, wasm=wasm).sandbox(
            isolating_backend, limits=Limits(timeout=10.0)) as sb:
        memory = [0] * WORDS
        assert plain(sb.answer()) == expected_answer(ROUNDS, memory)
        assert plain(sb.thrown()) == signed((steps(memory, 0, ROUNDS) + 8) & MASK)
