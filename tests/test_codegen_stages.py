"""The generator's stages one by one, without zig or wasmtime.

preprocess (its pure part: cleaning and the macro dump) -> parse (preprocessed text to
the IR) -> lower (IR types to abi types) -> plan (names, exports, skips) -> emit_py /
emit_pyi (source text, compiled and executed or parsed here). C text is preprocessed by
hand (``golden.preprocessed``); lower and plan also get IR built by hand.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from golden import preprocessed

from sandboxlib import BuildError, FuncPtr, Function, GeneratorWarning, Prim, Ptr, Signature
from sandboxlib.codegen import ir
from sandboxlib.codegen.annotations import Annotation
from sandboxlib.codegen.emit_py import emit_proxy
from sandboxlib.codegen.emit_pyi import emit_stub
from sandboxlib.codegen.formatting import WIDTH, bracketed, pretty
from sandboxlib.codegen.lower import (CannotProxy, FixedArray, Lowering, Nested, declare,
                                      prototype, spell)
from sandboxlib.codegen.parse import parse_api
from sandboxlib.codegen.plan import PackagePlan, StructPlan, make_plan, warn_skipped
from sandboxlib.codegen.preprocess import (PRELUDE, VA_LIST_MARKER, clean, from_compiler_output,
                                           parse_macro_dump)
from sandboxlib.proxy import ArrayOf, Struct

pytestmark = pytest.mark.quick  # no compiler: `make quick` runs every test here

CODEGEN = Path(__file__).resolve().parent.parent / "sandboxlib" / "codegen"


def parse_c(tmp_path: Path, text: str, name: str = "h.h") -> ir.Api:
    """The IR of C ``text`` written as header ``name``."""
    header = tmp_path / name
    header.write_text(text)
    return parse_api(preprocessed(header), [header])


# -- preprocess (the part that needs no compiler) ------------------------------------

def test_clean_drops_extensions_and_keeps_line_numbers() -> None:
    raw = ('# 1 "h.h"\n'
           "#pragma once\n"
           "__extension__ typedef long long ll_t;\n"
           "int f(char *__restrict s) __attribute__((nonnull(1),\n"
           "    warn_unused_result)) __asm__(\"f_impl\");\n"
           '_Static_assert(sizeof(int) == 4, "int");\n'
           "__inline__ const int g(__const char *s);\n"
           "int after(void);\n")
    out = clean(raw)
    lines = out.splitlines()
    assert len(lines) == len(raw.splitlines())
    assert lines[0] == '# 1 "h.h"' and lines[1] == ""  # markers kept, other directives not
    assert not re.search(r"__extension__|__restrict|__attribute__|nonnull|__asm__|f_impl|"
                         r"_Static_assert|__inline__|__const\b", out)
    assert lines[6].split() == ["inline", "const", "int", "g(const", "char", "*s);"]
    assert lines[7] == "int after(void);"  # still on its own line


def test_clean_turns_inline_bodies_into_prototypes() -> None:
    out = clean("static inline int twice(int v) {\n  struct { int a; } s = {v};\n"
                "  return s.a * 2;\n}\nstruct keep { int x; };\n")
    assert out.splitlines()[0] == "static inline int twice(int v) ;"
    assert len(out.splitlines()) == 5 and out.splitlines()[4] == "struct keep { int x; };"
    assert "return" not in out


def test_parse_macro_dump_keeps_object_like_macros() -> None:
    dump = ("#define A 1\n#define EMPTY\n#define F(x) ((x) + 1)\n#define S \"s\"  \n"
            "#define SPACED   (1 << 2)\n")
    assert parse_macro_dump(dump) == {"A": "1", "EMPTY": "", "S": '"s"', "SPACED": "(1 << 2)"}


def test_compiler_output_is_cleaned_behind_the_va_list_prelude() -> None:
    pre = from_compiler_output('# 1 "h.h"\ntypedef __builtin_va_list va_list;\n', "#define X 1")
    assert pre.text.startswith(PRELUDE) and VA_LIST_MARKER in PRELUDE
    assert f"typedef {VA_LIST_MARKER} va_list;" in pre.text and pre.macros == {"X": "1"}


# -- parse -------------------------------------------------------------------------

def test_parse_scalars_and_typedef_spellings(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "typedef unsigned long ulong_t;\ntypedef ulong_t size_like;\n"
                            "size_like f(signed char a, unsigned short b, long long c, _Bool d,\n"
                            "            unsigned e, long int g, double h, char i);\n")
    f = api.function("f")
    assert f is not None and f.location == ir.Location(str(tmp_path / "h.h"), 3)
    assert f.type.result == ir.Scalar(Prim.ULONG, "size_like")
    assert [p.type for p in f.type.params] == [
        ir.Scalar(Prim.SCHAR), ir.Scalar(Prim.USHORT), ir.Scalar(Prim.LLONG),
        ir.Scalar(Prim.BOOL), ir.Scalar(Prim.UINT), ir.Scalar(Prim.LONG),
        ir.Scalar(Prim.DOUBLE), ir.Scalar(Prim.CHAR)]
    assert api.typedefs["ulong_t"] == ir.Scalar(Prim.ULONG)


def test_parse_pointers_arrays_and_callbacks(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "typedef int (*cb_t)(int, void *user);\n"
                            "const char *g(const char *s, char **out, int arr[4], cb_t cb,\n"
                            "              void (*raw)(void));\n")
    g = api.function("g")
    assert g is not None
    s, out, arr, cb, raw = (p.type for p in g.type.params)
    assert g.type.result == ir.Pointer(ir.Scalar(Prim.CHAR), const=True)
    assert s == ir.Pointer(ir.Scalar(Prim.CHAR), const=True)
    assert out == ir.Pointer(ir.Pointer(ir.Scalar(Prim.CHAR)))
    assert arr == ir.Pointer(ir.Scalar(Prim.INT))  # an array parameter decays
    callback = ir.FunctionType((ir.Param("arg0", ir.Scalar(Prim.INT)),
                            ir.Param("user", ir.Pointer(ir.Scalar(Prim.VOID)))),
                           ir.Scalar(Prim.INT))
    assert api.typedefs["cb_t"] == ir.Pointer(callback)
    assert cb == ir.Pointer(replace(callback, spelling="cb_t"))  # written as its typedef
    assert raw == ir.Pointer(ir.FunctionType((), ir.Scalar(Prim.VOID)))


def test_parse_void_unnamed_and_variadic_parameters(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "struct st;\nint none(void);\nint empty();\n"
                            "int anon(int, char *);\n"
                            "int more(struct st *, void *, int (*)(int), char *, char *);\n"
                            "int vf(const char *fmt, ...);\n")
    none, empty, anon, vf = (api.function(n) for n in ("none", "empty", "anon", "vf"))
    assert none and empty and anon and vf
    assert none.type.params == () and empty.type.params == ()
    # unnamed: after what they point to, else by position; never twice the same
    assert [p.name for p in anon.type.params] == ["arg0", "text"]
    more = api.function("more")
    assert more is not None
    assert [p.name for p in more.type.params] == ["st", "data", "callback", "text", "text4"]
    assert vf.type.variadic and not anon.type.variadic and len(vf.type.params) == 1


def test_parse_structs_unions_and_anonymous_members(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "enum { N = 3 };\n"
                            "struct s {\n"
                            "  int a;\n"
                            "  union { int i; float f; } u;\n"
                            "  struct { short lo, hi; } pair;\n"
                            "  int arr[N * 2];\n"
                            "  char name[sizeof(int) + sizeof(void *)];\n"
                            "  unsigned bits : 3;\n"
                            "  struct s *next;\n"
                            "  char tail[];\n"
                            "  int odd[1 << 70];\n"
                            "};\n"
                            "typedef struct { int v; } plain_t;\n")
    s = api.structs["s"]
    assert not s.union and s.location == ir.Location(str(tmp_path / "h.h"), 2)
    assert s.fields is not None
    fields = {f.name: f for f in s.fields}
    assert fields["u"].type == ir.StructRef("s_u", union=True)
    assert api.structs["s_u"].union
    assert [f.name for f in api.structs["s_u"].fields or []] == ["i", "f"]
    assert fields["pair"].type == ir.StructRef("s_pair")
    assert [f.name for f in api.structs["s_pair"].fields or []] == ["lo", "hi"]
    assert fields["arr"].type == ir.Array(ir.Scalar(Prim.INT), 6)
    # a length that takes a sizeof is the compiler's to give, for each model (wasm32: 4 +
    # 4, the host: 4 + 8; codegen/layouts.py)
    assert fields["name"].type == ir.Array(ir.Scalar(Prim.CHAR), None,
                                           "(sizeof(int)) + (sizeof(void *))")
    assert fields["bits"].bits == 3 and fields["a"].bits is None
    assert fields["next"].type == ir.Pointer(ir.StructRef("s"))
    assert fields["tail"].type == ir.Array(ir.Scalar(Prim.CHAR), None)
    odd = fields["odd"].type
    assert isinstance(odd, ir.Unsupported) and "array size" in odd.reason  # the field, not all
    assert api.typedefs["plain_t"] == ir.StructRef("plain_t")  # named after its typedef


def test_parse_enums(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "enum color { RED, GREEN = 5, BLUE, NEG = -2, AFTER, "
                            "SHIFTED = 1 << 4, REF = GREEN + 10, CH = 'A', NL = '\\n', "
                            "NUL = '\\0', DIV = -7 / 2, MOD = -7 % 2, BIG = 1 + 0x7fffffff, "
                            "COND = (1 < 2) ? 3 : 4, OCT = 010, CAST = (int)5u };\n"
                            "typedef enum { ONE = 1 } anon_t;\n"
                            "enum color paint(enum color c);\n")
    assert api.enums["color"].values == {
        "RED": 0, "GREEN": 5, "BLUE": 6, "NEG": -2, "AFTER": -1, "SHIFTED": 16, "REF": 15,
        "CH": 65, "NL": 10, "NUL": 0, "DIV": -3, "MOD": -1, "BIG": 0x80000000, "COND": 3,
        "OCT": 8, "CAST": 5}
    assert api.enums["anon_t"].values == {"ONE": 1}
    paint = api.function("paint")
    assert paint is not None and paint.type.result == ir.EnumRef("color")


@pytest.mark.parametrize("value,error", [("1 << 64", "a shift by 64 is out of range"),
                                         ("0x7fffffffffffffff * 4", "does not fit 64 bits"),
                                         ("'ab'", "unsupported constant 'ab'"),
                                         ("1.5", "unsupported constant 1.5"),
                                         ("UNKNOWN", "cannot evaluate UNKNOWN")])
def test_parse_refuses_enum_values_it_cannot_know(tmp_path: Path, value: str, error: str) -> None:
    with pytest.raises(BuildError, match=re.escape(error)):
        parse_c(tmp_path, f"enum e {{ A = {value} }};\n")


def test_parse_opaque_struct(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "typedef struct handle handle;\nhandle *open_it(void);\n")
    assert api.structs["handle"].fields is None
    open_it = api.function("open_it")
    assert open_it is not None and open_it.type.result == ir.Pointer(ir.StructRef("handle"))


def test_parse_skips_static_inline_and_globals(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "static int hidden(int v) { return v; }\n"
                            "inline int twice(int v) { return 2 * v; }\n"
                            "extern inline int kept(int v);\n"
                            "extern int counter;\n"
                            "int ok(void);\n")
    assert [f.name for f in api.functions] == ["kept", "ok"]
    where = str(tmp_path / "h.h")
    assert [str(s) for s in api.skipped] == [
        f"{where}:1: hidden: inline/static function: the library exports no symbol",
        f"{where}:2: twice: inline/static function: the library exports no symbol",
        f"{where}:4: counter: global variables are not proxied"]


def test_parse_takes_functions_only_from_the_given_headers(tmp_path: Path) -> None:
    mine, other = tmp_path / "mine.h", tmp_path / "other.h"
    mine.write_text("#define MINE 1\n")
    pre = from_compiler_output(f'# 1 "{other}"\ntypedef int other_t;\nint other_fn(void);\n'
                               f'int other_global;\n# 1 "{mine}"\nother_t mine_fn(void);\n',
                               "#define MINE 1\n#define OTHER 2")
    api = parse_api(pre, [mine])
    assert [f.name for f in api.functions] == ["mine_fn"] and api.skipped == []
    assert api.functions[0].type.result == ir.Scalar(Prim.INT, "other_t")
    assert [(c.name, c.value) for c in api.constants] == [("MINE", 1)]


def test_parse_takes_an_umbrella_headers_parts_from_folders_below_it(tmp_path: Path) -> None:
    """xz's lzma.h declares its API in lzma/*.h, which refuse to be included alone: the
    parts a listed header includes from folders below its own are its own; a header
    beside it (zconf.h beside zlib.h) or elsewhere is not."""
    top, part, beside, outside = (tmp_path / "api/umb.h", tmp_path / "api/umb/part.h",
                                  tmp_path / "api/beside.h", tmp_path / "other/out.h")
    for path in (top, part, beside, outside):
        path.parent.mkdir(parents=True, exist_ok=True)
    top.write_text("#define TOP 1\n")
    part.write_text("#define PART 2\n")
    beside.write_text("#define BESIDE 3\n")
    outside.write_text("#define OUTSIDE 4\n")
    pre = from_compiler_output(
        f'# 1 "{top}"\n# 1 "{beside}" 1\nint beside_fn(void);\n# 1 "{outside}" 1\n'
        f'int out_fn(void);\n# 2 "{top}" 2\n# 1 "{part}" 1\nint part_fn(void);\n'
        f'# 3 "{top}" 2\nint top_fn(void);\n',
        "#define TOP 1\n#define PART 2\n#define BESIDE 3\n#define OUTSIDE 4")
    api = parse_api(pre, [top])
    assert [f.name for f in api.functions] == ["part_fn", "top_fn"]
    assert [(c.name, c.value) for c in api.constants] == [("TOP", 1), ("PART", 2)]


def test_parse_unsupported_types(tmp_path: Path) -> None:
    api = parse_c(tmp_path, f"typedef {VA_LIST_MARKER} va_list;\n"
                            "int vf(const char *fmt, va_list ap);\nlong double ld(void);\n")
    vf, ld = api.function("vf"), api.function("ld")
    assert vf is not None and ld is not None
    assert vf.type.params[1].type == ir.Unsupported("va_list cannot cross the boundary")
    assert ld.type.result == ir.Unsupported("long double is a 128-bit float on wasm32")


def test_parse_error_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"does not parse: .*bad\.h:2"):
        parse_c(tmp_path, "int ok(int v);\nint broken(int v;\n", "bad.h")


def test_parse_reads_define_constants(tmp_path: Path) -> None:
    api = parse_c(tmp_path, "#define ANSWER 42\n#define NAME \"n\"\n#define F(x) x\n"
                            "int f(void);\n")
    assert api.constants == [ir.Constant("ANSWER", 42, ir.Location(str(tmp_path / "h.h"), 1)),
                             ir.Constant("NAME", "n", ir.Location(str(tmp_path / "h.h"), 2))]


# -- lower -------------------------------------------------------------------------

INT, CHAR, VOID = ir.Scalar(Prim.INT), ir.Scalar(Prim.CHAR), ir.Scalar(Prim.VOID)
HEADER = "/x/h.h"


def func(name: str, result: ir.DeclType, *params: tuple[str, ir.DeclType], line: int = 1,
         variadic: bool = False) -> ir.FunctionDecl:
    return ir.FunctionDecl(name, ir.FunctionType(tuple(ir.Param(n, t) for n, t in params), result,
                                         variadic), ir.Location(HEADER, line))


def struct(tag: str, *fields: tuple[str, ir.DeclType] | ir.FieldDecl, union: bool = False,
           line: int = 1, file: str = HEADER) -> ir.StructDecl:
    return ir.StructDecl(tag, union,
                         [f if isinstance(f, ir.FieldDecl) else ir.FieldDecl(*f) for f in fields],
                         ir.Location(file, line))


CALLBACK = ir.FunctionType((ir.Param("user", ir.Pointer(VOID)), ir.Param("v", INT)), INT)


def test_spell_and_prototype() -> None:
    assert spell(ir.Pointer(CHAR, const=True)) == "const char *"
    assert spell(ir.Scalar(Prim.ULONG, "size_t")) == "size_t"
    assert spell(ir.Array(INT, 4)) == "int[4]" and spell(ir.Array(INT, None)) == "int[]"
    assert spell(ir.StructRef("u", union=True)) == "union u" and spell(ir.EnumRef("e")) == "enum e"
    assert spell(ir.Pointer(CALLBACK)) == "int (*)(void *, int)"
    assert declare(ir.Pointer(CALLBACK), "cb") == "int (*cb)(void *, int)"
    assert prototype(func("f", VOID)) == "void f(void)"
    assert prototype(func("g", ir.Pointer(CHAR), ("s", ir.Pointer(CHAR, True)), ("cb", ir.Pointer(
        CALLBACK)), variadic=True)) == "char * g(const char * s, int (*cb)(void *, int), ...)"


def test_lower_values() -> None:
    api = ir.Api(enums={"small": ir.Enum("small", {"A": 1}),
                        "big": ir.Enum("big", {"B": 0x80000000})})
    lower = Lowering(api)
    assert lower.value(ir.Scalar(Prim.USHORT, "u16"), "x") is Prim.USHORT
    assert lower.value(ir.EnumRef("small"), "x") is Prim.INT
    assert lower.value(ir.EnumRef("big"), "x") is Prim.UINT  # does not fit an int
    assert lower.value(ir.Pointer(ir.StructRef("s")), "x") == Ptr("struct s")
    assert lower.value(ir.Pointer(CHAR, const=True), "x") == Ptr("char", const=True)
    assert lower.value(ir.Pointer(CALLBACK), "x") == FuncPtr(
        Signature((Ptr("void"), Prim.INT), Prim.INT, ("user", "v")))
    variadic_cb = ir.FunctionType((ir.Param("n", INT),), INT, variadic=True)
    assert lower.value(ir.Pointer(variadic_cb), "x") == Ptr("function")  # still a pointer


def test_lower_refuses_what_cannot_cross() -> None:
    lower = Lowering(ir.Api())
    cases: list[tuple[ir.FunctionType, str]] = [
        (ir.FunctionType((ir.Param("n", INT),), INT, variadic=True), "variadic"),
        (ir.FunctionType((ir.Param("s", ir.StructRef("s")),), VOID),
         "parameter 's' passes struct s by value"),
        (ir.FunctionType((), ir.StructRef("s")), "the result passes struct s by value"),
        (ir.FunctionType((ir.Param("ap", ir.Unsupported("va_list")),), VOID), "parameter 'ap': "
                                                                          "va_list"),
        (ir.FunctionType((ir.Param("a", ir.Array(INT, 2)),), VOID), "unsupported type int[2]"),
    ]
    for ftype, reason in cases:
        with pytest.raises(CannotProxy, match=re.escape(reason)):
            lower.signature(ftype)
    assert lower.signature(ir.FunctionType((ir.Param("a", INT),), VOID)) == Signature(
        (Prim.INT,), Prim.VOID, ("a",))


def test_struct_problems() -> None:
    api = ir.Api(structs={
        "ok": struct("ok", ("a", INT), ("self", ir.Pointer(ir.StructRef("ok")))),
        "opaque": ir.StructDecl("opaque", False, None),
        "bits": struct("bits", ("a", INT), ir.FieldDecl("flag", INT, 1)),
        "flex": struct("flex", ("n", INT), ("data", ir.Array(CHAR, None))),
        "outer": struct("outer", ("inner", ir.StructRef("bits"))),
        "holds_opaque": struct("holds_opaque", ("o", ir.StructRef("opaque"))),
        "bad": struct("bad", ("x", ir.Unsupported("long double is a 128-bit float on wasm32"))),
        "grid": struct("grid", ("cells", ir.Array(ir.Array(ir.StructRef("ok"), 2), 3))),
    })
    lower = Lowering(api)
    assert lower.struct_problem("ok") is None and lower.struct_problem("grid") is None
    assert lower.struct_problem("opaque") == "opaque (declared but not defined)"
    assert lower.struct_problem("missing") == "opaque (declared but not defined)"
    assert lower.struct_problem("bits") == "bitfield 'flag'"
    assert lower.struct_problem("flex") == "field 'data' is a flexible array"
    assert lower.struct_problem("outer") == "field 'inner' (struct bits): bitfield 'flag'"
    assert lower.struct_problem("holds_opaque") == \
        "field 'o' (struct opaque): opaque (declared but not defined)"
    assert lower.struct_problem("bad") == "field 'x': long double is a 128-bit float on wasm32"


def test_lower_fields() -> None:
    lower = Lowering(ir.Api())
    assert lower.field(ir.StructRef("inner")) == Nested("inner")
    assert lower.field(ir.Array(ir.Array(ir.Scalar(Prim.SHORT), 2), 3)) == \
        FixedArray(FixedArray(Prim.SHORT, 2), 3)
    assert lower.field(ir.Array(ir.StructRef("p"), 4)) == FixedArray(Nested("p"), 4)
    assert lower.field(ir.Pointer(CALLBACK)) == FuncPtr(
        Signature((Ptr("void"), Prim.INT), Prim.INT, ("user", "v")))


# -- plan --------------------------------------------------------------------------

def sample_api() -> ir.Api:
    """A hand-built API: functions, constants, an enum, callbacks and structs."""
    return ir.Api(
        functions=[
            func("add", INT, ("a", INT), ("b", INT), line=10),
            func("vsum", INT, ("n", INT), variadic=True, line=11),
            func("take", VOID, ("p", ir.StructRef("point")), line=12),
            func("move", VOID, ("p", ir.Pointer(ir.StructRef("line"))), line=13),
            func("unused", INT, line=14),
            func("alloc", ir.Pointer(VOID), ("self", INT), ("n", INT), line=15),
            func("point", INT, line=16),  # the struct tag's name as a function
        ],
        structs={
            "point": struct("point", ("x", INT), ("y", INT), line=2),
            "line": struct("line", ("a", ir.StructRef("point")), ("b", ir.StructRef("point")),
                           ("_address", INT), ("label", ir.Array(CHAR, 8)), line=3),
            "other": struct("other", ("z", INT), file="/elsewhere/o.h"),
            "opaque": ir.StructDecl("opaque", False, None, ir.Location(HEADER, 4)),
            "packed": struct("packed", ir.FieldDecl("f", INT, 2), line=5),
        },
        enums={"mode": ir.Enum("mode", {"FAST": 0, "_HIDDEN": 1, "add": 9},
                               ir.Location(HEADER, 6))},
        typedefs={"visit_t": ir.Pointer(CALLBACK), "int_t": INT,
                  "vcb": ir.Pointer(ir.FunctionType((ir.Param("n", INT),), INT, variadic=True))},
        constants=[ir.Constant("LIMIT", 10, ir.Location(HEADER, 1)),
                   ir.Constant("None", 1, ir.Location(HEADER, 7))],
        skipped=[ir.Skipped("counter", "global variables are not proxied",
                            ir.Location(HEADER, 8))],
    )


def test_plan_exports_and_skips() -> None:
    plan = make_plan(sample_api(), "my_lib", [HEADER], ["add", "vsum", "take", "move", "alloc",
                                                        "point"])
    assert [f.name for f in plan.functions] == ["add", "move", "alloc", "point"]  # not unused
    assert [str(s) for s in plan.skipped] == [
        f"{HEADER}:8: counter: global variables are not proxied",
        f"{HEADER}:11: vsum: variadic functions cannot be called safely",
        f"{HEADER}:12: take: parameter 'p' passes struct point by value",
        f"{HEADER}:5: struct packed: no view class: bitfield 'f'"]  # opaque: silently not
    add = plan.functions[0]
    assert add.sig == Signature((Prim.INT, Prim.INT), Prim.INT, ("a", "b"))
    assert add.doc == "int add(int a, int b)  [h.h:10]" and add.params == ["a", "b"]
    assert [f.name for f in make_plan(sample_api(), "m", [HEADER], None).functions] == [
        "add", "move", "unused", "alloc", "point"]


def test_plan_constants_and_callbacks() -> None:
    plan = make_plan(sample_api(), "my_lib", [HEADER], None)
    assert [(c.name, c.value) for c in plan.constants] == [("LIMIT", 10), ("None_", 1),
                                                           ("FAST", 0)]  # not _HIDDEN, add
    assert plan.callbacks == {"visit_t": Signature((Ptr("void"), Prim.INT), Prim.INT,
                                                   ("user", "v"))}  # not int_t, vcb


def test_plan_structs_in_dependency_order_and_tag_namespace() -> None:
    plan = make_plan(sample_api(), "my_lib", [HEADER], None)
    assert [(sp.tag, sp.pyname) for sp in plan.structs] == [
        ("point", "struct_point"),  # 'point' is a function: C keeps tags apart, Python does not
        ("line", "line")]  # 'other' is neither in the header nor used; 'opaque' has no fields
    line = plan.structs[1]
    assert line.fields == [("a", Nested("point")), ("b", Nested("point")), ("_address_", Prim.INT),
                           ("label", FixedArray(Prim.CHAR, 8))]
    assert line.doc == "struct line  [h.h:3]" and not line.union
    assert plan.struct_classes() == {"point": "struct_point", "line": "line"}
    used = make_plan(sample_api(), "m", ["/elsewhere/o.h"], ["move"])
    assert [sp.tag for sp in used.structs] == ["point", "line", "other"]


def test_plan_renames_by_the_rule() -> None:
    plan = make_plan(sample_api(), "my_lib", [HEADER], None)
    assert (plan.class_name, plan.helpers_name) == ("MyLib", "MyLibHelpers")
    assert [(f.name, f.pyname, f.params) for f in plan.functions if f.name == "alloc"] == [
        ("alloc", "alloc_", ["self_", "n"])]
    assert [str(r) for r in plan.renamed] == [  # struct_point is C's spelling: no warning
        f"{HEADER}:7: constant None -> None_",
        f"{HEADER}:15: function alloc -> alloc_",
        f"{HEADER}:15: parameter self of alloc -> self_",
        f"{HEADER}:3: field _address of struct line -> _address_"]


def test_plan_class_names() -> None:
    api = ir.Api(functions=[func("f", INT)])
    assert make_plan(api, "zlib_raw", [HEADER], None).class_name == "ZlibRaw"
    plan = make_plan(ir.Api(functions=[func("f", INT)], constants=[
        ir.Constant("Names", 1, None)]), "names", [HEADER], None)
    assert (plan.class_name, plan.constants[0].name) == ("Names", "Names_")


def helper_api() -> ir.Api:
    u8 = ir.Scalar(Prim.UCHAR, "uint8_t")
    return ir.Api(functions=[
        func("checksum", ir.Scalar(Prim.UINT), ("data", ir.Pointer(u8, const=True)),
             ("len", ir.Scalar(Prim.ULONG))),
        func("divmod", INT, ("a", INT), ("b", INT), ("lib", ir.Pointer(INT))),
        func("greet", ir.Pointer(CHAR), ("name", ir.Pointer(CHAR, const=True))),
        func("release", VOID, ("p", ir.Pointer(VOID))),
        func("alloc", ir.Pointer(VOID), ("n", INT)),
    ])


def test_plan_annotations_name_helper_parameters() -> None:
    annotations = {"checksum": Annotation(buffers={"data": "len"}, has_helper=True),
                   "divmod": Annotation(out=["lib"], has_helper=True),
                   "greet": Annotation(string=True, max_len=32, free="release", nullable=["name"],
                                       has_helper=True),
                   "release": Annotation(has_helper=False)}
    plan = make_plan(helper_api(), "h", [HEADER], None, annotations, "h.toml")
    checksum, divmod, greet, release, _ = plan.functions
    assert checksum.helper_params == ["data", "len_"]  # len is a name the helper's body uses
    assert checksum.annotation == Annotation(buffers={"data": "len_"}, has_helper=True)
    assert checksum.pointee == {"data": Prim.UCHAR}
    assert divmod.helper_params == ["a", "b", "lib_"] and divmod.pointee == {"lib_": Prim.INT}
    assert divmod.annotation is not None and divmod.annotation.out == ["lib_"]
    assert greet.annotation is not None and greet.annotation.free == "release"
    assert greet.has_helper and not release.has_helper
    # only the parameters the helper takes are reported (len_ is a local)
    assert [str(r) for r in plan.renamed] == [f"{HEADER}:1: function alloc -> alloc_"]
    renamed = make_plan(helper_api(), "h", [HEADER], None, {
        "alloc": Annotation(string=False, has_helper=True),
        "greet": Annotation(string=True, free="alloc", has_helper=True)}, "h.toml")
    assert renamed.functions[2].annotation is not None
    assert renamed.functions[2].annotation.free == "alloc_"  # the method's Python name


def test_plan_refuses_bad_annotation() -> None:
    with pytest.raises(BuildError, match=r"h\.toml: \[functions\.greet\]: buffer 'name' must be "
                                         r"a const pointer|length"):
        make_plan(helper_api(), "h", [HEADER], None,
                  {"greet": Annotation(buffers={"name": "name"}, has_helper=True)}, "h.toml")
    with pytest.raises(BuildError, match=r"\[functions\.release\]: release has no parameter 'q'"):
        make_plan(helper_api(), "h", [HEADER], None,
                  {"release": Annotation(nullable=["q"], has_helper=True)}, "h.toml")


def test_warn_skipped_warns_once_each_and_prints_nothing(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.warns(GeneratorWarning) as record:
        warn_skipped(make_plan(sample_api(), "my_lib", [HEADER], None))
    texts = [str(w.message) for w in record]
    assert texts[0] == f"renamed {HEADER}:7: constant None -> None_"
    assert texts[-1] == f"skipped {HEADER}:5: struct packed: no view class: bitfield 'f'"
    assert len(texts) == 4 + 4 and all(w.category is GeneratorWarning for w in record)
    assert record[0].filename == __file__  # attributed to the caller
    assert capsys.readouterr() == ("", "")


# -- emit_py -----------------------------------------------------------------------

def run_proxy(plan: PackagePlan, tmp_path: Path) -> dict[str, Any]:
    """Execute the emitted proxy (nothing is built until a sandbox is made)."""
    scope: dict[str, Any] = {"__file__": str(tmp_path / "pkg" / "__init__.py"),
                             "__name__": plan.name}
    exec(compile(emit_proxy(plan), f"{plan.name}/__init__.py", "exec"), scope)
    return scope


def test_emit_proxy_declares_the_plan(tmp_path: Path) -> None:
    plan = make_plan(sample_api(), "my_lib", [HEADER], None)
    plan.build = {"sources": ["csrc/d0/a.c"], "headers": ["csrc/d0/h.h"],
                  "include_dirs": ["csrc/d0"], "defines": ["X=1"], "cflags": ["-O1"]}
    m = run_proxy(plan, tmp_path)
    assert m["__doc__"].startswith("my_lib: sandboxed proxy generated by sandboxlib")
    assert m["FUNCTIONS"] == tuple(Function(f.name, f.sig) for f in plan.functions)
    assert (m["LIMIT"], m["None_"], m["FAST"]) == (10, 1, 0)
    assert m["visit_t"] == plan.callbacks["visit_t"]
    point, line = m["struct_point"], m["line"]
    assert issubclass(point, Struct) and point._fields_ == (("x", Prim.INT), ("y", Prim.INT))
    assert line._fields_ == (("a", point), ("b", point), ("_address_", Prim.INT),
                             ("label", ArrayOf(Prim.CHAR, 8)))
    assert line.__doc__ == "struct line  [h.h:3]"
    lib = m["LIBRARY"]
    pkg = tmp_path / "pkg"
    assert lib.name == "my_lib" and lib.sources == (pkg / "csrc/d0/a.c",)
    assert lib.headers == (pkg / "csrc/d0/h.h",) and lib.include_dirs == (pkg / "csrc/d0",)
    assert lib.defines == ("X=1",) and lib.cflags == ("-O1",)
    proxy = m["MyLib"]
    assert {"add", "move", "unused", "alloc_", "point", "helpers"} <= set(vars(proxy))
    assert proxy.add.__doc__ == "int add(int a, int b)  [h.h:10]"
    assert callable(m["sandbox"]) and m["MyLibHelpers"].__doc__.startswith("Bytes in")


def test_emit_proxy_binds_renamed_methods_to_c_names() -> None:
    source = emit_proxy(make_plan(sample_api(), "my_lib", [HEADER], None))
    tree = ast.parse(source)
    methods = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    alloc = methods["alloc_"]
    assert [a.arg for a in alloc.args.posonlyargs + alloc.args.args] == ["self", "self_", "n"]
    assert ast.unparse(alloc.body[-1]) == "return self._bind('alloc', 'alloc_')(self_, n)"
    assert ast.unparse(methods["add"].body[-1]) == "return self._bind('add')(a, b)"


def test_emit_proxy_union_and_helpers(tmp_path: Path) -> None:
    api = helper_api()
    api.structs["num"] = struct("num", ("i", INT), ("f", ir.Scalar(Prim.FLOAT)), union=True)
    plan = make_plan(api, "h", [HEADER], None, {
        "checksum": Annotation(buffers={"data": "len"}, has_helper=True),
        "divmod": Annotation(out=["lib"], has_helper=True),
        "greet": Annotation(string=True, max_len=32, free="release", has_helper=True)}, "h.toml")
    m = run_proxy(plan, tmp_path)
    assert m["num"]._union_ is True and m["num"]._fields_ == (("i", Prim.INT), ("f", Prim.FLOAT))
    helpers = m["HHelpers"]
    assert {"checksum", "divmod", "greet"} <= set(vars(helpers))
    tree = ast.parse(emit_proxy(plan))
    body = {n.name: ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    assert "len_ = self._count(data, Prim.UCHAR)" not in body["HHelpers"]  # char-sized: len()
    assert "len_ = len(data)" in body["HHelpers"]
    assert "r = self._string(r, 32, 'release')" in body["HHelpers"]
    assert "lib_ = lib.out(Prim.INT)" in body["HHelpers"]
    assert "return (r, lib_.value)" in body["HHelpers"]


def test_emit_proxy_keeps_lines_short() -> None:
    many = tuple((f"parameter_number_{i}", ir.Pointer(CALLBACK)) for i in range(6))
    api = ir.Api(functions=[func("a_function_with_a_long_name", INT, *many)])
    source = emit_proxy(make_plan(api, "long", [HEADER], None))
    compile(source, "long", "exec")
    lines = source.splitlines()
    declarations = lines[lines.index("FUNCTIONS = ("):lines.index("LIBRARY = Library(")]
    assert max(len(ln) for ln in declarations) <= WIDTH
    assert "        Signature(" in declarations  # split, one argument per line, recursively
    callback = "FuncPtr(Signature((Ptr('void'), Prim.INT), Prim.INT, ('user', 'v'))),"
    assert " " * 16 + callback in declarations  # each parameter on its own line


NAMED = """
typedef int (*inner_cb)(int);
typedef int outer_fn(inner_cb cb, int);
typedef outer_fn *outer_cb;
typedef inner_cb inner_again;
struct s { outer_cb run; int (*raw)(inner_cb); inner_cb many[2]; };
int call(outer_fn *f, inner_again g, int (*h)(int), struct s *s);
"""


def test_emit_proxy_writes_named_signatures_by_name(tmp_path: Path) -> None:
    """Where the header wrote a callback type by its typedef name, the proxy writes the
    Signature planned under that name (a field without one: its own, TAG_FIELD)."""
    plan = make_plan(parse_c(tmp_path, NAMED), "n", [str(tmp_path / "h.h")], None)
    source = emit_proxy(plan)
    lines = source.splitlines()
    assert lines[lines.index("inner_cb = Signature((Prim.INT,), Prim.INT, ('arg0',))") + 1:][:5] \
        == ["outer_fn = Signature((FuncPtr(inner_cb), Prim.INT), Prim.INT, ('cb', 'arg1'))",
            "outer_cb = outer_fn", "inner_again = inner_cb",
            "s_run = outer_cb", "s_raw = Signature((FuncPtr(inner_cb),), Prim.INT, ('callback',))"]
    code = {ast.unparse(n.targets[0]): ast.unparse(n.value) for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Assign)}
    assert code["_fields_"] == ("(('run', FuncPtr(outer_cb)), ('raw', FuncPtr(s_raw)), "
                                "('many', ArrayOf(FuncPtr(inner_cb), 2)))")
    # a function pointer written without a typedef name stays written out
    assert code["FUNCTIONS"] == (
        "(Function('call', Signature((FuncPtr(outer_fn), FuncPtr(inner_again), "
        "FuncPtr(Signature((Prim.INT,), Prim.INT, ('arg0',))), Ptr('struct s')), Prim.INT, "
        "('f', 'g', 'h', 's'))),)")
    m = run_proxy(plan, tmp_path)
    assert m["outer_cb"] is m["outer_fn"] and m["inner_again"] is m["inner_cb"]
    assert m["outer_fn"].params[0] == FuncPtr(m["inner_cb"])
    (call,) = m["FUNCTIONS"]
    assert call.sig.params[:3] == (FuncPtr(m["outer_fn"]), FuncPtr(m["inner_cb"]),
                                   FuncPtr(m["inner_cb"]))  # equal, named or not
    assert dict(m["s"]._fields_)["many"] == ArrayOf(FuncPtr(m["inner_cb"]), 2)


def test_emit_handles_an_empty_struct_and_no_helpers(tmp_path: Path) -> None:
    plan = PackagePlan("e", "E", "EHelpers", [HEADER],
                structs=[StructPlan("empty", "empty", False, [], "struct empty  [h.h:1]")])
    m = run_proxy(plan, tmp_path)
    assert m["empty"]._fields_ == () and m["FUNCTIONS"] == ()
    stub = emit_stub(plan)
    assert "class empty(Struct):\n    ...\n" in stub
    assert "class EHelpers(Helpers):\n    ...\n" in stub
    ast.parse(stub)


# -- emit_pyi ----------------------------------------------------------------------

def stub_of(plan: PackagePlan) -> dict[str, str]:
    """Each method's stub signature in the ``.pyi``, by ``class.name`` (``class.name=``
    for a property's setter)."""
    tree = ast.parse(emit_stub(plan))
    out: dict[str, str] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            setter = any(ast.unparse(d).endswith(".setter") for d in fn.decorator_list)
            key = f"{cls.name}.{fn.name}" + ("=" if setter else "")
            args = ", ".join(ast.unparse(a) for a in (fn.args.posonlyargs + fn.args.args)[1:])
            out[key] = f"({args}) -> {ast.unparse(fn.returns) if fn.returns else ''}"
    return out


def test_emit_stub_types() -> None:
    api = ir.Api(functions=[
        func("i", INT, ("a", ir.Scalar(Prim.LLONG)), ("f", ir.Scalar(Prim.FLOAT))),
        func("b", ir.Scalar(Prim.BOOL), ("s", ir.Pointer(CHAR, const=True))),
        func("d", ir.Scalar(Prim.DOUBLE), ("p", ir.Pointer(CHAR)), ("cb", ir.Pointer(CALLBACK))),
        func("p", ir.Pointer(ir.StructRef("rec"))),
        func("v", VOID, ("r", ir.Pointer(ir.StructRef("rec")))),
    ], structs={
        "inner": struct("inner", ("tag", INT)),
        "rec": struct("rec", ("n", ir.Scalar(Prim.DOUBLE)), ("inner", ir.StructRef("inner")),
                      ("name", ir.Array(ir.Scalar(Prim.UCHAR), 4)), ("vals", ir.Array(INT, 2)),
                      ("next", ir.Pointer(ir.StructRef("rec"))), ("cb", ir.Pointer(CALLBACK))),
    }, constants=[ir.Constant("I", 1, None), ir.Constant("F", 0.5, None),
                  ir.Constant("S", "s", None)], typedefs={"cb_t": ir.Pointer(CALLBACK)})
    plan = make_plan(api, "t", [HEADER], None)
    text = emit_stub(plan)
    assert text.startswith('"""t: type stubs generated by sandboxlib')
    assert "\nI: int\nF: float\nS: str\ncb_t: Signature\n" in text
    stubs = stub_of(plan)
    assert stubs["T.i"] == "(a: int, f: float) -> Tainted[int]"
    assert stubs["T.b"] == "(s: ConstData) -> Tainted[bool]"
    assert stubs["T.d"] == "(p: PointerArg, cb: CallbackArg) -> Tainted[float]"
    # a pointer to a struct has a type of its own: a rec * is not any pointer
    assert "\nrec_ptr = NewType('rec_ptr', TaintedPtr)\n" in text
    assert stubs["T.p"] == "() -> rec_ptr"
    assert stubs["T.v"] == "(r: rec_ptr | rec | HostPointer) -> None"
    assert stubs["rec.n"] == "() -> Tainted[float]" and stubs["rec.n="] == "(value: float) -> None"
    # a field named as a class is renamed: the stubs' annotations use the class
    assert stubs["rec.inner_"] == "() -> inner" and stubs["rec.inner_="] == \
        "(value: inner) -> None"
    assert stubs["rec.name"] == "() -> Tainted[bytes]" and stubs["rec.name="] == \
        "(value: bytes) -> None"
    assert stubs["rec.vals"] == "() -> Tainted[list[Any]]" and stubs["rec.vals="] == \
        "(value: NoReturn) -> None"
    assert stubs["rec.next"] == "() -> rec_ptr" and stubs["rec.next="] == \
        "(value: rec_ptr | rec | HostPointer) -> None"
    assert stubs["rec.cb="] == "(value: CallbackArg) -> None"
    assert "def sandbox(backend: str | None = ..., *, limits: Limits | None = ...," in text


def test_emit_stub_helpers() -> None:
    plan = make_plan(helper_api(), "h", [HEADER], None, {
        "checksum": Annotation(buffers={"data": "len"}, has_helper=True),
        "divmod": Annotation(out=["lib"], has_helper=True),
        "greet": Annotation(string=True, free="release", nullable=["name"], has_helper=True)},
        "h.toml")
    stubs = stub_of(plan)
    assert stubs["HHelpers.checksum"] == "(data: bytes | bytearray | memoryview | str) -> " \
                                         "Tainted[int]"
    assert stubs["HHelpers.divmod"] == "(a: int, b: int) -> tuple[Tainted[int], Tainted[int]]"
    assert stubs["HHelpers.greet"] == "(name: ConstData | None) -> Tainted[bytes] | None"
    assert stubs["H.checksum"] == "(data: ConstData, len: int) -> Tainted[int]"


def test_emit_stub_unshadows_builtins() -> None:
    api = ir.Api(functions=[func("int", INT), func("property", ir.Pointer(CHAR)),
                            func("f", ir.Scalar(Prim.FLOAT), ("x", INT))],
                 structs={"s": struct("s", ("int", INT), ("bytes", ir.Array(CHAR, 2)),
                                      ("property", ir.Scalar(Prim.FLOAT)))})
    plan = make_plan(api, "b", [HEADER], None)
    assert [f.pyname for f in plan.functions] == ["int", "property", "f"]  # builtins: kept
    text = emit_stub(plan)
    assert "    @builtins.property\n    def int(self) -> Tainted[builtins.int]: ..." in text
    assert "    def int(self, value: builtins.int) -> None: ..." in text
    assert "    def bytes(self) -> Tainted[builtins.bytes]: ..." in text
    assert "    def property(self) -> Tainted[float]: ..." in text  # float is not shadowed
    assert "    def f(self, x: builtins.int, /) -> Tainted[float]:\n" in text
    assert "    def int(self) -> Tainted[builtins.int]:\n" in text
    assert "    def property(self) -> TaintedPtr" in text
    ast.parse(text)


# -- formatting ----------------------------------------------------------------------

def test_pretty_splits_at_top_level_commas_only() -> None:
    expr = "call('a, (b', [1, 2], inner(x, 'y)'), " + ", ".join(f"arg{i}" for i in range(30)) + ")"
    lines = pretty(expr, "    ", ",")
    assert lines[0] == "    call(" and lines[1] == "        'a, (b'," and lines[-1] == "    ),"
    assert "        [1, 2]," in lines and "        inner(x, 'y)')," in lines
    assert all(len(ln) <= WIDTH for ln in lines)
    assert pretty("short(1)", "") == ["short(1)"]
    assert ast.literal_eval("".join(pretty("(" + "1, " * 60 + ")", ""))) == (1,) * 60


def test_bracketed_tuple_of_one_keeps_its_comma() -> None:
    assert bracketed("x=(", ["'a'"], "),", "    ") == ["    x=('a',),"]
    assert bracketed("x=(", ["", "'a'", ""], "),", "") == ["x=('a',),"]
    assert bracketed("f(", ["1"], ")", "") == ["f(1)"]
    long = bracketed("x=(", ["'" + "a" * 60 + "'", "'" + "b" * 60 + "'"], "),", "    ")
    assert long == ["    x=(", f"        '{'a' * 60}',", f"        '{'b' * 60}',", "    ),"]


# -- the stages' imports --------------------------------------------------------------

# Each module may import only modules listed before it; emit_py and emit_pyi not each
# other. ir, names and annotations are the shared vocabulary.
ORDER = ["ir", "names", "annotations", "formatting", "macros", "preprocess", "parse", "lower",
         "helpers", "plan", "layouts", "emit_py", "emit_pyi", "generate", "spec", "packages"]
RUNTIME = {"runtime", "backends", "proxy", "library", "_boundary", "workers"}
NEEDS_NO_COMPILER = {"ir", "names", "annotations", "formatting", "macros", "parse", "lower",
                     "helpers", "plan", "emit_py", "emit_pyi"}


def codegen_imports(module: str) -> tuple[set[str], set[str]]:
    """(codegen modules, other sandboxlib modules) that ``module`` imports."""
    tree = ast.parse((CODEGEN / f"{module}.py").read_text())
    own: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            own |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 2:
            other.add(node.module or "")
    return own, other


def test_each_stage_imports_only_earlier_ones() -> None:
    modules = {p.stem for p in CODEGEN.glob("*.py")} - {"__init__"}
    assert modules == set(ORDER)  # a new module takes its place in ORDER
    for i, module in enumerate(ORDER):
        own, other = codegen_imports(module)
        later = own - set(ORDER[:i])
        assert not later, f"{module} imports {later}"
        # the generator runs without the runtime and the compiled boundary
        assert not any(o.split(".")[0] in RUNTIME for o in other), (module, other)
        if module in NEEDS_NO_COMPILER:
            assert not any(o.startswith("toolchain") for o in other), (module, other)
    assert "emit_py" not in codegen_imports("emit_pyi")[0]
    init = ast.parse((CODEGEN / "__init__.py").read_text())
    assert all(isinstance(n, ast.Expr) for n in init.body)  # a docstring, no imports
