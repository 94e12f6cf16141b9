"""The wasm2c backend's contracts with text it does not own: wasm2c's output, patched at
text anchors and read by its comments (backends/wasm2c/translate.py), and the C in
backends/wasm2c/csrc/ that Python reads. With the pinned wabt, each anchor occurs where
and as often as the patcher expects, so a wabt upgrade that moves one fails here by
name rather than compiling a module without its hooks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from libs import HOSTILE, assemble_wat

from sandboxlib import Library
from sandboxlib.backends.base import RAW_VALUE_C, value_union
from sandboxlib.backends.wasm2c._csrc import CSRC, SHARED_HEADERS, TRAPS, read_traps
from sandboxlib.backends.wasm2c.prologues import PROLOGUE, place_prologues, prologue
from sandboxlib.backends.wasm2c.translate import (ACCESS_WIDTHS, EXPORT, HOOKS_ANCHOR,
                                                  HOOKS_INCLUDE, IMPORT, MEMORY_SIZE,
                                                  MEMORY_SIZE_AT, MEMORY_SIZE_FIRST, METER,
                                                  METER_AT, MIN_MEMORY, SEGMENT_REWRITE,
                                                  SIMD_ANCHOR, SIMD_INCLUDE, TRAMPOLINE_AT,
                                                  check_accesses_in_place, insert_hooks,
                                                  run_wasm2c, translate)
from sandboxlib.toolchain.moduleshape import ModuleShape, check_module
from sandboxlib.toolchain.wasmbinary import SEC_CODE, initial_memory, leb_u, sections

# What hooks.h redefines, and the wasm-rt allocators it routes to ours.
REDEFINED = ("FUNC_PROLOGUE", "CHECK_CALL_INDIRECT")
HOOKED = {"wasm_rt_allocate_memory", "wasm_rt_grow_memory", "wasm_rt_free_memory",
          "wasm_rt_allocate_funcref_table", "wasm_rt_allocate_externref_table"}
# wasm-rt's own, called as they are: they free or grow what our hooks allocated, within
# the limits the hooks set.
UNHOOKED = {"wasm_rt_free_funcref_table", "wasm_rt_grow_funcref_table"}


class Translated:
    """The hostile library's module (memory, a table, loops, indirect calls, WASI
    imports) as the pinned wasm2c writes it, before the hooks."""

    def __init__(self, wasm: Path, out: Path) -> None:
        self.wasm = wasm
        self.source = run_wasm2c(wasm, wasm.read_bytes(), out)
        self.header = (out / "module.h").read_text()
        at = self.source.index(HOOKS_ANCHOR)
        self.before, self.after = self.source[:at], self.source[at:]
        self.shape: ModuleShape = check_module(wasm.read_bytes(), wasm.name)


@pytest.fixture(scope="module")
def translated(hostile_lib: Library, tmp_path_factory: pytest.TempPathFactory) -> Translated:
    return Translated(hostile_lib.wasm_module(), tmp_path_factory.mktemp("wasm2c"))


def test_the_hooks_anchor_occurs_once_after_the_macros_hooks_h_redefines(
        translated: Translated) -> None:
    assert translated.source.count(HOOKS_ANCHOR) == 1
    for macro in REDEFINED:
        defined = re.compile(rf"^#\s*(define|undef)\s+{macro}\b", re.MULTILINE)
        assert defined.search(translated.before), f"wasm2c no longer defines {macro}"
        assert not defined.search(translated.after), f"wasm2c defines {macro} past the anchor"


def test_simd_h_follows_simdes_include_before_any_function(translated: Translated) -> None:
    """csrc/simd.h's replacements are defined after SIMDe's functions and before the
    module's functions call them."""
    assert translated.after.count(SIMD_ANCHOR) == 1 and SIMD_ANCHOR not in translated.before
    hooked = insert_hooks(translated.source, translated.wasm)
    at = hooked.index(SIMD_ANCHOR + SIMD_INCLUDE)
    assert at < hooked.index("FUNC_PROLOGUE;")


def test_every_function_starts_with_the_prologue_and_indirect_calls_check_through_the_hook(
        translated: Translated) -> None:
    code = dict(sections(translated.wasm.read_bytes()))[SEC_CODE]
    functions, _ = leb_u(code, 0)
    assert translated.after.count("FUNC_PROLOGUE;") == functions > 0
    call_indirect = re.search(r"^#define CALL_INDIRECT\(.*?[^\\]$", translated.before,
                              re.MULTILINE | re.DOTALL)
    assert call_indirect and "CHECK_CALL_INDIRECT(" in call_indirect[0]
    assert re.search(r"\bCALL_INDIRECT\(", translated.after)  # the module makes indirect calls


def body_of(source: str, name: str) -> str:
    """The C of the translated function ``name`` (its definition to its closing brace;
    an exported one's, ``name_0``, not its export wrapper's)."""
    for m in re.finditer(rf"^[^\s#/].*\bw2c_m_{name}(?:_0)?\(w2c_m\*.*\) \{{\n", source,
                         re.MULTILINE):
        body = source[m.end():source.index("\n}\n", m.end())]
        if "PROLOGUE" in body:
            return body
    raise AssertionError(f"no function {name}")


def test_recursion_and_indirect_calls_keep_both_prologue_checks(translated: Translated) -> None:
    """Every function keeps one prologue (prologues.py): the recursive one and those
    calling through the table both checks, a small one that calls
    nothing neither (a loop in it has its own stop check)."""
    placed = place_prologues(translated.after)
    assert len(re.findall(r"^  (?:FUNC_PROLOGUE|SBX_PROLOGUE\([01], [01]\));$", placed,
                          re.M)) == translated.after.count(PROLOGUE)
    assert prologue(False, False) in body_of(placed, "hostile_ok")
    for caller in ("hostile_recurse", "hostile_call"):
        assert PROLOGUE in body_of(placed, caller), caller


# How wasm2c defines its checked load and store helpers, and the memory type of each.
ACCESS_DEFINITIONS = (r"^DEFINE_(?:LOAD|STORE)\((\w+), (\w+),",
                      r"^DEFINE_SIMD_LOAD_FUNC\((\w+), \w+, (\w+)\)",
                      r"^DEFINE_SIMD_STORE\((\w+), (\w+)\)",
                      r"^DEFINE_SIMD_(?:LOAD|STORE)_LANE\((\w+), \w+, (\w+), \d+\)")
# How the translated code calls them: by their _default32 name, the lane ones by their own.
ACCESS_CALL = r"\b(\w+?)(?:_default32)?\(wasm_rt_local_memory_base, "


def test_every_checked_access_names_its_function_and_has_wasm2cs_width(
        translated: Translated) -> None:
    """Each load and store of the listed helpers is made SBX_CHECKED (its trap names
    the function it is in), with the width of the memory type wasm2c's helper accesses
    (a narrower one would leave wasm2c's own check in place, not unsafe but slower)."""
    defined = {name: 16 if t == "v128" else int(t[1:]) // 8
               for pattern in ACCESS_DEFINITIONS
               for name, t in re.findall(pattern, translated.after, re.MULTILINE)}
    assert {n: defined.get(n) for n in ACCESS_WIDTHS} == ACCESS_WIDTHS
    calls = re.findall(ACCESS_CALL, translated.after)
    assert {"i32_load", "i32_store"} <= set(calls)
    checked = check_accesses_in_place(translated.after)
    assert checked.count("SBX_CHECKED(") == sum(c in ACCESS_WIDTHS for c in calls)
    assert not [c for c in re.findall(ACCESS_CALL, checked) if c in ACCESS_WIDTHS]
    assert "SBX_CHECKED(i32_load, 4, __func__, wasm_rt_local_memory_base, " in checked


def test_every_bulk_memory_call_names_its_function(translated: Translated) -> None:
    """memory.fill and memory.copy (the hostile library's memset and memcpy) are called
    through hooks.h's SBX_FILL and SBX_COPY, whose traps name the function."""
    bulk = re.compile(r"^\s+memory_(fill|copy|init)\(", re.M)
    assert {"fill", "copy"} <= set(bulk.findall(translated.after))
    checked = check_accesses_in_place(translated.after)
    assert not bulk.findall(checked)
    assert "SBX_FILL(__func__, &instance->w2c_memory, " in checked
    assert "SBX_COPY(__func__, &instance->w2c_memory, &instance->w2c_memory, " in checked


def test_memory_and_tables_are_allocated_only_past_the_anchor_by_hooked_allocators(
        translated: Translated) -> None:
    called = re.compile(r"\b(wasm_rt_(?:allocate|free|grow)_\w+)\(")
    assert not called.findall(translated.before)
    used = called.findall(translated.after)
    assert set(used) <= HOOKED | UNHOOKED, set(used) - HOOKED - UNHOOKED
    assert used.count("wasm_rt_allocate_memory") == used.count("wasm_rt_free_memory") == 1
    assert used.count("wasm_rt_allocate_funcref_table") == 1


def test_the_meter_goes_before_every_jump_to_a_loop(translated: Translated) -> None:
    assert METER_AT not in translated.before
    jumps = translated.after.count(METER_AT)
    labels = re.findall(r"^\s*var_L\d+:", translated.after, re.MULTILINE)
    assert jumps > 0 and labels
    # a loop label is only ever defined or jumped to by METER_AT
    assert len(re.findall(r"\bvar_L\d+\b", translated.after)) == len(labels) + jumps
    hooked = insert_hooks(translated.source, translated.wasm)
    assert hooked.count(HOOKS_INCLUDE + HOOKS_ANCHOR) == 1
    assert hooked.count(METER + METER_AT) == hooked.count(METER_AT) == jumps


def test_every_read_of_the_memory_size_tells_the_compiler_the_initial_memory(
        translated: Translated) -> None:
    """A function reads the memory's size at its start and after each call, in the one
    form ``MEMORY_SIZE_AT``; each becomes hooks.h's SBX_MEMORY_SIZE (no less than the
    initial memory at the start, than the last read after that), and the translation
    defines SBX_MIN_MEMORY, before hooks.h, as the module's initial memory."""
    reads = translated.after.count(MEMORY_SIZE_AT)
    first = translated.after.count("uint64_t " + MEMORY_SIZE_AT)
    assert first == translated.after.count("FUNC_PROLOGUE;") > 0 and reads > first
    assert MEMORY_SIZE_AT not in translated.before
    assert len(re.findall(r"\bw2c_memory\)->size\b", translated.after)) == reads
    hooked = insert_hooks(translated.source, translated.wasm)
    assert MEMORY_SIZE_AT not in hooked and hooked.count(MEMORY_SIZE_FIRST) == first
    assert hooked.count(MEMORY_SIZE) == reads - first
    initial = initial_memory(translated.wasm.read_bytes())
    assert initial > 0 and hooked.count(MIN_MEMORY.format(initial) + HOOKS_INCLUDE) == 1


def test_the_gs_base_is_set_only_as_a_call_enters(translated: Translated) -> None:
    """wasm2c sets the GS base (Segue) where a call enters the module, in each export
    wrapper and in instantiation, saving the caller's base first, and again after each
    call_indirect and memory.grow (the hostile module has both): only the latter, in one
    form, are left out (runtime.c restores the base where host code may have moved it)."""
    write = "wasm_rt_segue_write_base(instance->w2c_memory.data);"
    saves = translated.after.count("void* segue_saved_base = wasm_rt_segue_read_base();")
    inside = len(SEGMENT_REWRITE.findall(translated.after))
    assert saves > 0 and inside > 0 and translated.after.count(write) == saves + inside
    assert "CALL_INDIRECT(" in translated.after and "wasm_rt_grow_memory(" in translated.after
    hooked = insert_hooks(translated.source, translated.wasm)
    assert hooked.count(write) == saves


@pytest.mark.parametrize("name", ["tail_call_forever", "tail_call_indirect_forever"])
def test_the_meter_goes_in_every_tail_call_trampoline(name: str, tmp_path: Path) -> None:
    """return_call runs in wasm2c's trampoline loop, not through a loop label: each
    round of it gets the meter (a cycle of tail calls otherwise ran past a time limit)."""
    wasm = assemble_wat(HOSTILE / "modules" / f"{name}.wat", tmp_path)
    source = run_wasm2c(wasm, wasm.read_bytes(), tmp_path)
    rounds = source.count("while (next->fn)")
    assert rounds and source.count(TRAMPOLINE_AT) == rounds
    hooked = insert_hooks(source, wasm)
    assert hooked.count(f"while (next->fn) {{ {METER}next->fn(") == rounds


def test_the_header_names_every_export_and_import(translated: Translated) -> None:
    lines = translated.header.splitlines()
    exports = [m["name"] for m in map(EXPORT.match, lines) if m]
    imports = [(m["module"], m["name"]) for m in map(IMPORT.match, lines) if m]
    assert sorted(exports) == sorted(name for name, _ in translated.shape.exports)
    assert sorted(imports) == sorted(imp[:2] for imp in translated.shape.imports)
    tr = translate(translated.wasm)  # reads each declaration below those comments
    assert sorted(tr.exports) == sorted(exports)
    assert [(i.module, i.name) for i in tr.imports] == imports


def test_trap_codes_are_read_from_traps_h() -> None:
    assert TRAPS["SBX_TRAP_STACK"] == 0x100 and TRAPS["SBX_TRAP_NO_ROOM"] == 0x10C
    assert sorted(TRAPS.values()) == list(range(0x100, 0x100 + len(TRAPS)))
    with pytest.raises(ValueError, match="SBX_TRAP_LATE"):
        read_traps("enum {\n  SBX_TRAP_EARLY = 0x100,\n  SBX_TRAP_LATE = 1 << 8,\n};\n")


def test_the_value_union_is_written_once() -> None:
    assert RAW_VALUE_C.startswith("typedef union {\n") and "double f64;" in RAW_VALUE_C
    assert '#include "_boundary.h"' in (CSRC / "runtime.c").read_text()
    declared = [path.name for path in [*CSRC.iterdir(), *SHARED_HEADERS]
                if "} sbx_val;" in path.read_text()]
    assert declared == ["_boundary.h"]
    with pytest.raises(ValueError, match="no sbx_val"):
        value_union("typedef union {\n  int32_t i32;\n} sbx_value;\n")
