"""Pre-initialization: the start-up runs once; sandboxes start from its image."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
from hypothesis import given, strategies as st

from libs import fn

from sandboxlib import Library, Prim, Ptr
from sandboxlib.toolchain.preinit import preinitialize
from sandboxlib.toolchain.wasmbinary import enc_s, enc_u, leb_s, leb_u

STARTUP = """
#include <stdint.h>
#include <stdlib.h>
static uint32_t table[256];
static int32_t constructor_runs;
static char *heap_note;
__attribute__((constructor)) static void build(void) {
    constructor_runs++;
    for (uint32_t i = 0; i < 256; i++) table[i] = i * 2654435761u;
    heap_note = malloc(16);
    for (int i = 0; i < 15; i++) heap_note[i] = 'a' + i;
    heap_note[15] = 0;
}
uint32_t table_at(uint32_t i) { return table[i & 255]; }
int32_t runs(void) { return constructor_runs; }
const char *note(void) { return heap_note; }
char *fresh(void) { return malloc(32); }
"""

FUNCS = (fn("table_at", Prim.UINT, ("i", Prim.UINT)), fn("runs", Prim.INT),
         fn("note", Ptr("char", const=True)), fn("fresh", Ptr("char")))


def make(tmp_path: Path, preinit: bool) -> Library:
    src = tmp_path / "startup.c"
    src.write_text(STARTUP)
    return Library("startup", FUNCS, sources=(src,), preinit=preinit)


def test_start_up_is_baked_into_the_module(tmp_path: Path) -> None:
    lib = make(tmp_path, preinit=True)
    image = lib.wasm_module().read_bytes()
    module = wasmtime.Module(wasmtime.Engine(), image)
    names = {e.name for e in module.exports}
    assert "_initialize" not in names and "table_at" in names
    # the constructor's table is in the data segments: 200 * 2654435761 mod 2**32
    assert ((200 * 2654435761) % 2**32).to_bytes(4, "little") in image


def test_preinitialized_and_plain_sandboxes_agree(tmp_path: Path) -> None:
    with make(tmp_path, True).sandbox("wasmtime") as pre, \
            make(tmp_path, False).sandbox("wasmtime") as plain:
        for sb in (pre, plain):
            assert sb.runs().verify(lambda v: True) == 1
            assert sb.note().copy_string(32).verify(lambda v: True) == b"abcdefghijklmno"
        for i in (0, 1, 200, 255):
            assert pre.table_at(i).verify(lambda v: True) == plain.table_at(i).verify(
                lambda v: True)
        # the heap is consistent: new allocations do not overlap the baked one
        note = pre.note().verify(lambda v: v > 0)
        block = pre.fresh().verify(lambda v: v > 0)
        assert block >= note + 16 or block + 32 <= note


def test_each_sandbox_starts_from_the_image_not_from_a_sibling(tmp_path: Path) -> None:
    lib = make(tmp_path, True)
    with lib.sandbox("wasmtime") as a:
        a.memory.write(a.note().verify(lambda v: v > 0), b"XXXX")
        with lib.sandbox("wasmtime") as b:
            assert b.note().copy_string(32).verify(lambda v: True) == b"abcdefghijklmno"


def test_a_module_with_foreign_imports_is_left_alone(tmp_path: Path) -> None:
    src = tmp_path / "foreign.c"
    src.write_text('__attribute__((import_module("env"), import_name("x"))) int x(void);\n'
                   "int f(void) { return x(); }\n")
    from sandboxlib.toolchain import build_wasm
    wasm = build_wasm([src], exports=["f"]).read_bytes()
    assert preinitialize(wasm) == wasm


@pytest.mark.quick
@given(st.integers(min_value=0, max_value=2**64))
def test_unsigned_leb128_round_trips(value: int) -> None:
    assert leb_u(enc_u(value), 0) == (value, len(enc_u(value)))


@pytest.mark.quick
@given(st.integers(min_value=-2**63, max_value=2**63 - 1))
def test_signed_leb128_round_trips(value: int) -> None:
    assert leb_s(enc_s(value), 0) == (value, len(enc_s(value)))
