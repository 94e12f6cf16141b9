"""Structs a header lays out beyond C's rules (``#pragma pack``, ``packed``,
``aligned(N)``: c_src/packing/): the generated views read what the library wrote, on
every backend (before: the parse dropped the attributes, and a packed field read its
neighbours' bytes, silently)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import ALL_BACKENDS
from libs import C_SRC, plain, wrap_package

from sandboxlib import HOST, WASM32
from sandboxlib.proxy import LibraryProxy

PACKING = C_SRC / "packing"


@pytest.fixture(scope="module")
def pk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return wrap_package("packing", PACKING / "packing.h", [PACKING / "packing.c"],
                        tmp_path_factory.mktemp("packing"))


@pytest.fixture(params=ALL_BACKENDS)
def lib(request: pytest.FixtureRequest, pk: ModuleType) -> Iterator[LibraryProxy]:
    with pk.sandbox(request.param) as sandboxed:
        yield sandboxed


def test_a_packed_header_with_anonymous_members(pk: ModuleType, lib: ModuleType) -> None:
    header, _ = lib.new(pk.pk_header)
    lib.pk_fill_header(header)
    assert plain(header.magic) == ord("H")
    assert plain(header.length) == 0x11223344 and plain(header.flags) == -2
    assert plain(header.anon1.raw) == 0xBEEF
    assert (plain(header.anon2.kind), plain(header.anon2.count)) == (ord("k"), -7)
    assert pk.pk_header.sizeof(WASM32) == pk.pk_header.sizeof(HOST) == 14


def test_pack_4_where_wasm32_and_the_host_differ(pk: ModuleType, lib: ModuleType) -> None:
    four, _ = lib.new(pk.pk_four)
    lib.pk_fill_four(four)
    assert plain(four.tag) == ord("F") and plain(four.wide) == -1234567890123
    assert plain(four.name.copy_string(8)) == b"four" and plain(four.weight) == 2.5
    # C's rules put the int64 at 8 on both; pack(4) at 4, and the host's pointer at 12
    assert pk.pk_four.layout(WASM32).offsets == {"tag": 0, "wide": 4, "name": 12, "weight": 16}
    assert pk.pk_four.layout(HOST).offsets == {"tag": 0, "wide": 4, "name": 12, "weight": 20}


def test_a_packed_struct_holding_an_ordinary_one(pk: ModuleType, lib: ModuleType) -> None:
    packed, _ = lib.new(pk.pk_attr)
    lib.pk_fill_attr(packed)
    assert plain(packed.c) == ord("A")
    assert (plain(packed.inner.c), plain(packed.inner.i)) == (ord("i"), 77)
    assert plain(packed.l) == 1 << 40 and plain(packed.shorts) == [1, -2, 3]
    assert pk.pk_inner.layout(WASM32).offsets == {"c": 0, "i": 4}  # its own: C's rules


def test_aligned_members_and_an_aligned_struct(pk: ModuleType, lib: ModuleType) -> None:
    state, _ = lib.new(pk.pk_state)
    lib.pk_fill_state(state)
    assert (plain(state.c), plain(state.x)) == (ord("S"), 99)
    assert (pk.pk_state.sizeof(WASM32), pk.pk_state.layout(WASM32).align) == (32, 32)


def test_only_structs_laid_out_otherwise_carry_the_compilers_layout(pk: ModuleType) -> None:
    source = Path(str(pk.__file__)).read_text()
    # the header, its anonymous struct (not its union: all at 0), four, attr, state
    assert source.count("_layouts_ = ") == 5
    assert "_layouts_" not in pk.pk_inner.__dict__


def test_an_array_sized_by_sizeof_is_evaluated_by_the_compiler(pk: ModuleType,
                                                                lib: ModuleType) -> None:
    """``digest[sizeof(struct pk_inner) * 2]`` (before: the struct was skipped, 'sizeof
    of this type is not supported'); one whose length differs between wasm32 and the
    host gets no view class, saying so."""
    digest, _ = lib.new(pk.pk_digest)
    lib.pk_fill_digest(digest)
    assert plain(digest.digest) == bytes(i * 3 for i in range(16))
    assert not hasattr(pk, "pk_word")


def test_the_skipped_array_names_both_lengths(tmp_path: Path) -> None:
    from sandboxlib.codegen.generate import WrapRequest, plan_for
    plan = plan_for(WrapRequest("packing", [PACKING / "packing.h"], [PACKING / "packing.c"]))
    reasons = {s.name: s.reason for s in plan.skipped}
    assert reasons["struct pk_word"] == ("no view class: field 'word': array size "
                                         "sizeof(long): 4 on wasm32, 8 on the host")


def test_a_header_that_does_not_compile_is_a_build_error_naming_it(tmp_path: Path) -> None:
    """The compiler is asked only what compiles: a header it refuses stops the
    generator with its message, not with a guessed layout."""
    from sandboxlib import BuildError
    from sandboxlib.codegen.generate import WrapRequest, plan_for
    header = tmp_path / "sizes.h"
    header.write_text("struct nope;\n"
                      "struct broken { char x[sizeof(struct nope)]; };\n"
                      "void use(struct broken *b);\n")
    with pytest.raises(BuildError, match="layouts failed") as caught:
        plan_for(WrapRequest("sizes", [header], [PACKING / "packing.c"]))
    assert "incomplete type 'struct nope'" in str(caught.value.args[1:]) + str(caught.value)


def test_a_struct_the_host_defines_otherwise_keeps_wasm32s_answer(tmp_path: Path) -> None:
    """A struct the host's headers define with other fields (a libc's: setjmp.h's
    ``struct __jmp_buf_tag`` has ``__jb`` for wasm32, ``__jmpbuf`` in glibc) cannot be
    asked of the host: the wrap goes on (before: BuildError, 'no member named __jb') and
    wasm32's layout is still the compiler's."""
    from sandboxlib.codegen.generate import WrapRequest, plan_for
    header = tmp_path / "differs.h"
    header.write_text("#pragma pack(push, 1)\n"
                      "struct differs { char c;\n"
                      "#ifdef __wasm__\n  int a;\n#else\n  int b;\n#endif\n};\n"
                      "#pragma pack(pop)\n"
                      "void use(struct differs *d);\n")
    plan = plan_for(WrapRequest("differs", [header], [PACKING / "packing.c"]))
    assert [(sp.tag, sp.layouts) for sp in plan.structs] == [
        ("differs", {"wasm32": (5, 1, (0, 1))})]


def test_an_array_whose_length_differs_on_the_host_names_both(tmp_path: Path) -> None:
    """setjmp.h's ``__ss[128 / sizeof(long)]``: 32 on wasm32, 16 on the host; the struct
    has no view class, saying so, and the wrap goes on."""
    from sandboxlib.codegen.generate import WrapRequest, plan_for
    header = tmp_path / "jumps.h"
    header.write_text("#include <setjmp.h>\n"
                      "struct guard { char tag; jmp_buf env; };\n"
                      "void run(struct guard *g);\n")
    plan = plan_for(WrapRequest("jumps", [header], [PACKING / "packing.c"]))
    reasons = {s.name: s.reason for s in plan.skipped}
    assert reasons["struct __jmp_buf_tag"].endswith("32 on wasm32, 16 on the host")
    assert [f.name for f in plan.functions] == ["run"]
