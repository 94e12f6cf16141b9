"""The project's test libraries (c_src/), declared by hand with the runtime's types.

These declarations are what the code generator emits from the headers; declaring
them here lets the runtime be tested on its own.
"""

from __future__ import annotations

from pathlib import Path

from sandboxlib import FuncPtr, Function, Library, Prim, Ptr, Signature

ROOT = Path(__file__).resolve().parent.parent
C_SRC = ROOT / "c_src"

P = Prim
BINOP = Signature((P.INT, P.INT), P.INT, ("a", "b"))
HOSTILE_CB = Signature((P.INT,), P.INT, ("v",))


def fn(name: str, result: object, *params: tuple[str, object]) -> Function:
    return Function(name, Signature(tuple(t for _, t in params), result,  # type: ignore[arg-type]
                                    tuple(n for n, _ in params)))


SAMPLE_FUNCTIONS = (
    fn("sample_add", P.INT, ("a", P.INT), ("b", P.INT)),
    fn("sample_inc_i8", P.SCHAR, ("v", P.SCHAR)),
    fn("sample_inc_u8", P.UCHAR, ("v", P.UCHAR)),
    fn("sample_inc_i16", P.SHORT, ("v", P.SHORT)),
    fn("sample_inc_u16", P.USHORT, ("v", P.USHORT)),
    fn("sample_inc_i32", P.INT, ("v", P.INT)),
    fn("sample_inc_u32", P.UINT, ("v", P.UINT)),
    fn("sample_inc_i64", P.LLONG, ("v", P.LLONG)),
    fn("sample_inc_u64", P.ULLONG, ("v", P.ULLONG)),
    fn("sample_negate_long", P.LONG, ("v", P.LONG)),
    fn("sample_ulong_max", P.ULONG),
    fn("sample_is_even", P.BOOL, ("v", P.INT)),
    fn("sample_char_at", P.CHAR, ("s", Ptr("char", const=True)), ("i", P.ULONG)),
    fn("sample_scale", P.FLOAT, ("x", P.FLOAT), ("k", P.FLOAT)),
    fn("sample_hypot", P.DOUBLE, ("a", P.DOUBLE), ("b", P.DOUBLE)),
    fn("sample_strlen", P.ULONG, ("s", Ptr("char", const=True))),
    fn("sample_greet", Ptr("char"), ("name", Ptr("char", const=True))),
    fn("sample_version_string", Ptr("char", const=True)),
    fn("sample_free", P.VOID, ("p", Ptr())),
    fn("sample_fill", P.VOID, ("buf", Ptr("uint8_t")), ("len", P.ULONG), ("value", P.UCHAR)),
    fn("sample_checksum", P.UINT, ("data", Ptr("uint8_t", const=True)), ("len", P.ULONG)),
    fn("sample_point_init", P.VOID, ("p", Ptr("sample_point")), ("x", P.INT), ("y", P.INT),
       ("weight", P.DOUBLE)),
    fn("sample_point_norm", P.DOUBLE, ("p", Ptr("sample_point", const=True))),
    fn("sample_point_new", Ptr("sample_point"), ("x", P.INT), ("y", P.INT),
       ("label", Ptr("char", const=True))),
    fn("sample_fold", P.INT, ("values", Ptr("int32_t", const=True)), ("n", P.ULONG),
       ("op", FuncPtr(BINOP)), ("init", P.INT)),
)

HOSTILE_FUNCTIONS = (
    fn("hostile_ok", P.INT, ("v", P.INT)),
    fn("hostile_unreachable", P.INT),
    fn("hostile_read_far", P.INT, ("address", P.UINT)),
    fn("hostile_divide", P.INT, ("a", P.INT), ("b", P.INT)),
    fn("hostile_spin", P.INT),
    fn("hostile_recurse", P.INT, ("depth", P.INT)),
    fn("hostile_malloc_bomb", P.INT, ("chunk", P.UINT)),
    fn("hostile_print", P.INT, ("text", Ptr("char", const=True))),
    fn("hostile_read_file", P.INT, ("path", Ptr("char", const=True)), ("out", Ptr("char")),
       ("cap", P.INT)),
    fn("hostile_clock", P.LLONG),
    fn("hostile_random", P.INT),
    fn("hostile_getenv", Ptr("char", const=True), ("name", Ptr("char", const=True))),
    fn("hostile_wild_pointer", Ptr("char")),
    fn("hostile_pointer_near_end", Ptr("char")),
    fn("hostile_unterminated", Ptr("char")),
    fn("hostile_call", P.INT, ("cb", FuncPtr(HOSTILE_CB)), ("v", P.INT)),
    fn("hostile_call_slot", P.INT, ("slot", P.UINT), ("v", P.INT)),
)


def sample_library() -> Library:
    d = C_SRC / "sample"
    return Library("sample", SAMPLE_FUNCTIONS, sources=(d / "sample.c",),
                   headers=(d / "sample.h",), include_dirs=(d,))


def hostile_library() -> Library:
    d = C_SRC / "hostile"
    return Library("hostile", HOSTILE_FUNCTIONS, sources=(d / "hostile.c",),
                   headers=(d / "hostile.h",), include_dirs=(d,))
