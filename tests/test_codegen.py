"""The code generator: headers to typed proxies, checked against the compilers."""

from __future__ import annotations

import ast
from enum import IntEnum
import importlib
import random
import struct
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from libs import (C_SRC, ROOT, H, fn, import_from, package_dir, packages, plain,  # noqa: F401
                  run_mypy, wrap_package)

from sandboxlib import (WASM32, HOST, ArgumentError, ClosedError, Library, Prim, Ptr, Tainted,
                        TaintedPtr)
from sandboxlib.proxy import Struct
from sandboxlib.codegen.spec import spec_inputs
from sandboxlib.errors import BuildError
from conftest import ALL_BACKENDS

CONSTRUCTS = C_SRC / "constructs"
SKIPS = {
    "cn_printf": "variadic", "cn_vprintf": "va_list", "cn_by_value": "by value",
    "cn_long_double": "long double", "cn_global_counter": "global variable",
    "cn_inline_twice": "inline", "struct cn_bits": "bitfield",
}



def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandboxlib", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("generated")
    proc = run_cli("wrap", "constructs", "--header", str(CONSTRUCTS / "constructs.h"),
                   "--source", str(CONSTRUCTS / "constructs.c"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (out / "wrap.stderr").write_text(proc.stderr)
    sys.path.insert(0, str(out))
    yield out
    sys.path.remove(str(out))


@pytest.fixture(scope="session")
def cn(generated: Path) -> ModuleType:
    return importlib.import_module("constructs")


def test_skipped_constructs_are_named_with_a_reason(generated: Path, cn: ModuleType) -> None:
    stderr = (generated / "wrap.stderr").read_text()
    for name, reason in SKIPS.items():
        line = next((ln for ln in stderr.splitlines() if f": {name}:" in ln), "")
        assert "warning: skipped" in line and "constructs.h:" in line, (name, stderr)
        assert reason.split()[0] in line.replace("-", " ").lower() or reason in line, line
        assert not hasattr(cn.Constructs, name)


def test_every_supported_function_has_a_method(cn: ModuleType) -> None:
    names = {f.name for f in cn.FUNCTIONS}
    assert {"cn_sum", "cn_wide", "cn_record_fill", "cn_handle_new", "cn_visit_all",
            "cn_next_color", "cn_name", "cn_copy", "cn_asm_label", "cn_noreturn_check"} <= names
    for name in names:
        assert callable(getattr(cn.Constructs, name))


def _probe(cn: ModuleType, backend: str, tmp: Path) -> tuple[list[int], list[str]]:
    """Compile a probe with the target's compiler: sizeof/alignof/offsetof of every
    generated struct and field, and every integer constant, read back at run time."""
    exprs: list[str] = []
    labels: list[str] = []
    for name in ("cn_inner", "cn_record", "cn_number"):
        cls = getattr(cn, name)
        ctype = f"struct {name}" if name != "cn_number" else "union cn_number"
        exprs += [f"sizeof({ctype})", f"_Alignof({ctype})"]
        labels += [f"{name}.size", f"{name}.align"]
        for field, _ in cls._fields_:
            exprs.append(f"offsetof({ctype}, {field})")
            labels.append(f"{name}.{field}")
    exprs += ["sizeof(((cn_record *)0)->u)", "sizeof(((cn_record *)0)->pair)"]
    labels += ["cn_record_u.size", "cn_record_pair.size"]
    for const in ("CN_ANSWER", "CN_HEX", "CN_NEG", "CN_SHIFT", "CN_DERIVED", "CN_CAST",
                  "CN_GREEN", "CN_BLUE", "CN_ANON_B"):
        exprs.append(f"(long long)({const})")
        labels.append(const)
    src = tmp / f"probe_{backend}.c"
    src.write_text('#include <stddef.h>\n#include "constructs.h"\n'
                   f"static const long long probe[] = {{{', '.join(exprs)}}};\n"
                   "const long long *probe_values(void) { return probe; }\n")
    lib = Library(f"probe_{backend}", (fn("probe_values", Ptr("long long", const=True)),),
                  sources=(src,), include_dirs=(CONSTRUCTS,))
    with lib.sandbox(backend) as sb:
        p = sb.probe_values()
        raw = plain(p.copy_bytes(8 * len(exprs)))
    values = [int.from_bytes(raw[i:i + 8], sys.byteorder if backend == "native" else "little",
                             signed=True) for i in range(0, len(raw), 8)]
    return values, labels


@pytest.mark.parametrize("backend,model", [("wasmtime", WASM32), ("native", HOST)])
def test_struct_layouts_and_constants_match_the_compiler(cn: ModuleType, backend: str,
                                                         model: Any, tmp_path: Path) -> None:
    values, labels = _probe(cn, backend, tmp_path)
    truth = dict(zip(labels, values))
    for name in ("cn_inner", "cn_record", "cn_number"):
        lay = getattr(cn, name).layout(model)
        assert (lay.size, lay.align) == (truth[f"{name}.size"], truth[f"{name}.align"]), name
        for field, offset in lay.offsets.items():
            assert offset == truth[f"{name}.{field}"], f"{name}.{field}"
    assert cn.cn_record_u.sizeof(model) == truth["cn_record_u.size"]
    assert cn.cn_record_pair.sizeof(model) == truth["cn_record_pair.size"]
    for const in ("CN_ANSWER", "CN_HEX", "CN_NEG", "CN_SHIFT", "CN_DERIVED", "CN_CAST",
                  "CN_GREEN", "CN_BLUE", "CN_ANON_B"):
        assert getattr(cn, const) == truth[const], const
    if model is WASM32:
        assert truth["cn_record.size"] != cn.cn_record.sizeof(HOST)  # the models do differ


def test_non_integer_constants(cn: ModuleType) -> None:
    assert cn.CN_NAME == "constructs"
    assert cn.CN_RATIO == 0.25
    assert cn.CN_LONG == 1234567890123
    assert not hasattr(cn, "CN_FUNCLIKE")


@pytest.mark.parametrize("backend", ["wasmtime", "native"])
def test_generated_proxy_round_trips_real_data(cn: ModuleType, backend: str) -> None:
    with cn.sandbox(backend) as lib:
        assert plain(lib.cn_sum(b"".join(v.to_bytes(4, sys.byteorder if backend == "native"
                                                    else "little", signed=True)
                                         for v in (1, -2, 30)), 3)) == 29
        assert plain(lib.cn_wide(-(2**40))) == -3 * 2**40
        assert plain(lib.cn_next_color(cn.CN_RED)) == cn.CN_GREEN
        assert plain(lib.cn_name().copy_string(32)) == b"constructs"
        record, alloc = lib.new(cn.cn_record)
        lib.cn_record_fill(record)
        assert plain(record.c) == ord("R")
        assert plain(record.wide) == -5000000000
        assert plain(record.shorts) == [1, -2, 3]
        assert plain(record.inner.tag) == 7 and plain(record.inner.value) == 2.5
        assert plain(record.name.copy_string(16)) == b"record"
        assert plain(record.u.as_float) == 1.0 and plain(record.u.as_bits) == 0x3F800000
        assert (plain(record.pair.lo), plain(record.pair.hi)) == (10, 20)
        assert plain(record.l) == -1
        assert plain(record.color) == cn.CN_BLUE
        assert plain(record.bytes) == b"abcde"
        assert record.visit.is_null()
        record.pair.lo = 65535
        assert plain(record.pair.lo) == 65535
        with pytest.raises(Exception, match="does not fit"):
            record.pair.lo = 65536
        alloc.free()


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_alloc_refuses_what_is_not_a_size_on_every_backend(cn: ModuleType, backend: str) -> None:
    """A struct class, a negative or a non-int size is ``ArgumentError`` (before: on the
    native backend they reached ``malloc`` as SIZE_MAX and were ``ResourceError``)."""
    with cn.sandbox(backend) as lib:
        with pytest.raises(ArgumentError, match=r"the struct cn_record: lib\.new\(cn_record\)"):
            lib.alloc(cn.cn_record)
        for size in (-1, -2**70, 1.0, "8", True, None):
            with pytest.raises(ArgumentError, match="size must be a non-negative int"):
                lib.alloc(size)
        assert lib.alloc(0) is not None  # an int in range is taken


@pytest.mark.parametrize("backend", ["wasmtime", "native"])
def test_opaque_handles_and_callbacks(cn: ModuleType, backend: str) -> None:
    with cn.sandbox(backend) as lib:
        handle = lib.cn_handle_new(10)
        assert isinstance(handle, TaintedPtr)
        seen: list[int] = []

        def visit(user: TaintedPtr, value: Tainted[int]) -> int:
            seen.append(value.verify(lambda v: 0 <= v < 100))
            return 1

        cb = lib.callback(visit, cn.cn_visit)
        assert plain(lib.cn_visit_all(handle, 3, cb, None)) == 3
        assert seen == [10, 11, 12]
        assert plain(lib.cn_handle_next(handle)) == 13
        lib.cn_handle_free(handle)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_a_callback_parameter_without_a_typedef_has_its_signature(backend: str,
                                                                 tmp_path: Path) -> None:
    """``void (*emit)(const char *, uint32_t, void *)`` as a parameter gets a Signature,
    ``FUNCTION_PARAMETER`` (before: none, so a caller spelled it by hand), and a callback
    of it runs on the native backend too (before: cffi refused its ``const char *``)."""
    folder = C_SRC / "inline_callbacks"
    ic = wrap_package("ic", folder / "inline_callbacks.h", [folder / "inline_callbacks.c"],
                      tmp_path)
    assert ic.ic_each_name_emit.params == (Ptr("char", const=True), Prim.UINT, Ptr("void"))
    seen: list[bytes] = []

    def emit(name: TaintedPtr, length: Tainted[int], user: TaintedPtr) -> None:
        seen.append(plain(name.copy_bytes(length.verify_range(0, 16))))

    with ic.sandbox(backend) as lib:
        assert plain(lib.ic_each_name(lib.callback(emit, ic.ic_each_name_emit), None)) == 3
    assert seen == [b"alpha", b"beta", b"gamma"]


def test_generated_code_is_readable(generated: Path, cn: ModuleType) -> None:
    """Short lines, a method per function documented by its C prototype and place, and
    stubs that declare what the proxy defines (the whole text: test_codegen_golden.py)."""
    source = (generated / "constructs" / "__init__.py").read_text()
    stub = (generated / "constructs" / "__init__.pyi").read_text()
    assert source.startswith('"""constructs: sandboxed proxy generated by sandboxlib')
    assert stub.startswith('"""constructs: type stubs generated by sandboxlib')
    assert "DO NOT EDIT" in source and "DO NOT EDIT" in stub
    long_lines = [ln for ln in source.splitlines() if len(ln) > 100]
    assert not long_lines, long_lines
    compile(source, "constructs/__init__.py", "exec")
    methods = _methods(ast.parse(source), "Constructs")
    assert set(methods) == {"helpers", *(f.name for f in cn.FUNCTIONS)}
    assert methods["cn_sum"] == "int32_t cn_sum(const int32_t * values, size_t count)  " \
                                "[constructs.h:73]"
    assert all(re.fullmatch(r".*\)\s+\[constructs\.h:\d+\]", doc or "", re.S)
               for name, doc in methods.items() if name != "helpers")
    stub_tree = ast.parse(stub)
    assert set(_methods(stub_tree, "Constructs")) == set(methods)
    classes = {n.name for n in stub_tree.body if isinstance(n, ast.ClassDef)} - {
        "Constructs", "ConstructsHelpers"}
    structs = {n for n, v in vars(cn).items() if isinstance(v, type) and issubclass(v, Struct)
               and v is not Struct and n == v.__name__}  # not the typedef names
    enums = {n for n, v in vars(cn).items() if isinstance(v, type) and issubclass(v, IntEnum)
             and v is not IntEnum}
    assert classes == structs | enums and "cn_color" in enums
    assert (generated / "constructs" / "module.wasm").is_file()
    assert (generated / "constructs" / "py.typed").is_file()


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c", "native"])
def test_the_c_prototype_stays_the_docstring_after_the_first_call(cn: ModuleType,
                                                                  backend: str) -> None:
    with cn.sandbox(backend) as lib:
        before = lib.cn_sum.__doc__
        assert before.startswith("int32_t cn_sum(const int32_t * values, size_t count)")
        lib.cn_sum(None, 0)
        assert lib.cn_sum.__doc__ == before and lib.cn_sum.__name__ == "cn_sum"


def _methods(tree: ast.Module, cls: str) -> dict[str, str | None]:
    """The methods of class ``cls`` with their docstrings."""
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    return {f.name: ast.get_docstring(f) for f in node.body if isinstance(f, ast.FunctionDef)}


GOOD = """
import constructs
with constructs.sandbox() as lib:
    n = lib.cn_sum(b"\\x01\\x00\\x00\\x00", 1)
    count: int = n.verify(lambda v: 0 <= v < 10)
    lib.cn_wide(count)
"""
BAD = """
import constructs
with constructs.sandbox() as lib:
    n = lib.cn_sum(b"\\x01\\x00\\x00\\x00", 1)
    lib.cn_wide(n)
"""


def mypy_good_and_bad(generated: Path, tmp_path: Path, good: str,
                      bad: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict over user code against the generated stubs: ``good`` must pass;
    the run over ``bad``, which must fail, is returned."""
    for name, text in (("good.py", good), ("bad.py", bad)):
        (tmp_path / name).write_text(text)
    cache = tmp_path / ".mypy"
    ok = run_mypy(cache, "--strict", str(tmp_path / "good.py"), mypypath=generated)
    assert ok.returncode == 0, ok.stdout
    refused = run_mypy(cache, "--strict", str(tmp_path / "bad.py"), mypypath=generated)
    assert refused.returncode == 1, refused.stdout
    return refused


def test_mypy_accepts_the_package_and_rejects_unverified_taint(generated: Path,
                                                               tmp_path: Path) -> None:
    bad = mypy_good_and_bad(generated, tmp_path, GOOD, BAD)
    assert 'Argument 1 to "cn_wide" of "Constructs" has incompatible type "Tainted[int]"; ' \
           'expected "int"' in bad.stdout, bad.stdout
    stub = run_mypy(tmp_path / ".mypy", "--strict", "-p", "constructs", mypypath=generated)
    assert stub.returncode == 0, stub.stdout


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c", "native"])
def test_an_unnamed_struct_is_one_class_under_its_typedef_names(cn: ModuleType,
                                                                 backend: str) -> None:
    assert not [n for n in vars(cn) if n.startswith("anon")]
    assert issubclass(cn.cn_image, Struct) and issubclass(cn.cn_cursor_target, Struct)
    assert cn.cn_image_ref is cn.cn_image_ptr and cn.cn_cursor is cn.cn_cursor_target_ptr
    with cn.sandbox(backend) as lib:
        image, _ = lib.new(cn.cn_image)
        image.w, image.h = 3, 4
        assert plain(lib.cn_image_area(image)) == 12
        grown = lib.view(cn.cn_image, lib.cn_image_grow(image, 1))
        assert (plain(grown.w), plain(grown.h)) == (4, 5)
        cursor, _ = lib.new(cn.cn_cursor_target)
        cursor.x = 9
        assert plain(lib.cn_cursor_x(cursor)) == 9


TYPED = """
import constructs
from sandboxlib import Prim, Ptr, TaintedPtr
with constructs.sandbox() as lib:
    image: constructs.cn_image
    image, _ = lib.new(constructs.cn_image)
    area: int = lib.cn_image_area(image).verify_range(0, 100)
    ref: constructs.cn_image_ref = lib.cn_image_grow(image, area)
    grown: constructs.cn_image = lib.view(constructs.cn_image, ref)
    cursor, _ = lib.new(constructs.cn_cursor_target)
    lib.cn_cursor_x(cursor)
    rest = lib.out(Prim.INT)
    lib.cn_divmod(7, 2, rest)
    r: int = rest.value.verify_range(0, 1)
    x: float = lib.out(Prim.DOUBLE).value.verify(lambda v: v == 0.0)
    p: TaintedPtr = lib.out(Ptr("char")).value
"""
UNVERIFIED_OUT = """
import constructs
from sandboxlib import Prim
with constructs.sandbox() as lib:
    w, h = lib.out(Prim.INT), lib.out(Prim.INT)
    area = w.value * h.value
"""


def test_mypy_follows_typedef_names_and_taints_out_parameters(generated: Path,
                                                              tmp_path: Path) -> None:
    bad = mypy_good_and_bad(generated, tmp_path, TYPED, UNVERIFIED_OUT)
    assert 'Unsupported left operand type for * ("Tainted[int]")' in bad.stdout, bad.stdout


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c", "native"])
def test_a_method_read_before_the_first_call_is_the_fast_caller(cn: ModuleType,
                                                               backend: str) -> None:
    from sandboxlib._boundary import Caller
    with cn.sandbox(backend) as lib:
        kept = lib.cn_wide
        assert type(kept) is Caller and lib.cn_wide is kept
        assert plain(kept(5)) == plain(lib.cn_wide(5)) and lib.cn_wide is kept
        assert kept.__doc__ == type(lib).cn_wide.__doc__  # the class keeps the function
    with pytest.raises(ClosedError):
        kept(5)
    with pytest.raises(ClosedError):
        lib.cn_sum(None, 0)  # never bound: read from a closed proxy, refused when called


@pytest.mark.quick
def test_header_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "bad.h").write_text("int ok(int v);\nint broken(int v;\n")
    (tmp_path / "bad.c").write_text("int ok(int v) { return v; }\n")
    proc = run_cli("wrap", "bad", "--header", str(tmp_path / "bad.h"), "--source",
                   str(tmp_path / "bad.c"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "bad.h:2" in proc.stderr, proc.stderr
    assert not (tmp_path / "out" / "bad").exists()


@pytest.mark.quick
def test_missing_file(tmp_path: Path) -> None:
    proc = run_cli("wrap", "gone", "--header", str(tmp_path / "gone.h"), "--source",
                   str(tmp_path / "gone.c"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "gone.h does not exist" in proc.stderr
    assert not (tmp_path / "out" / "gone").exists()


@pytest.mark.quick
def test_spec_naming_an_unknown_function(tmp_path: Path) -> None:
    spec = tmp_path / "constructs.toml"
    spec.write_text(f"""
[library]
name = "constructs"
headers = ["{CONSTRUCTS / 'constructs.h'}"]
sources = ["{CONSTRUCTS / 'constructs.c'}"]

[functions.cn_no_such_function]
skip = true
""")
    proc = run_cli("gen", str(spec), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert str(spec) in proc.stderr and "cn_no_such_function" in proc.stderr
    assert not (tmp_path / "out" / "constructs").exists()


@pytest.mark.quick
def test_spec_with_a_toml_error_names_the_line(tmp_path: Path) -> None:
    spec = tmp_path / "broken.toml"
    spec.write_text('[library]\nname = \nheaders = []\n')
    proc = run_cli("gen", str(spec), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and f"{spec}:2:" in proc.stderr, proc.stderr


@pytest.mark.quick
@pytest.mark.parametrize(("table", "refusal"), [
    ('[[with]]\npin = "zlib"\nheaders = ["zlib.h"]\n', "[[with]] has unknown key 'headers'"),
    ('[[with]]\npin = "nope"\n', "pin 'nope' is unknown"),
    ('[with]\npin = "zlib"\n', "with must be an array of tables"),
])
def test_a_spec_with_a_bad_with_table_is_refused(table: str, refusal: str,
                                                 tmp_path: Path) -> None:
    spec = tmp_path / "bundles.toml"
    spec.write_text(f'[library]\nname = "bundles"\nheaders = []\n{table}')
    with pytest.raises(BuildError) as info:
        spec_inputs(spec)
    assert str(spec) in str(info.value) and refusal in str(info.value)


def test_inspect_lists_imports_and_exports(generated: Path) -> None:
    proc = run_cli("inspect", str(generated / "constructs" / "module.wasm"))
    assert proc.returncode == 0
    assert "cn_sum" in proc.stdout and "func(i32, i32) -> i32" in proc.stdout
    assert "imports" in proc.stdout


def test_wrap_a_real_library_zlib(tmp_path: Path) -> None:
    """A new user's first try on a real, widely used library fetched pinned."""
    import zlib

    from sandboxlib.toolchain import PINS, fetch_pin
    src = fetch_pin(PINS["zlib"])
    names = ["adler32", "compress", "crc32", "deflate", "infback", "inffast", "inflate",
             "inftrees", "trees", "uncompr", "zutil", "gzclose", "gzlib", "gzread", "gzwrite"]
    proc = run_cli("wrap", "zlib_raw", "--header", str(src / "zlib.h"), "--source",
                   *(str(src / f"{n}.c") for n in names), "--include", str(src),
                   "--define", "HAVE_UNISTD_H", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    z = import_from(tmp_path, "zlib_raw")
    header = (src / "zlib.h").read_text()
    declared = {f.name for f in z.FUNCTIONS}
    assert {"deflateInit_", "inflate", "compress2", "uncompress", "crc32", "adler32",
            "gzopen", "zlibVersion"} <= declared
    assert "gzprintf" not in declared and "gzprintf" in proc.stderr
    for name in declared:
        assert name in header
    data = bytes(range(256)) * 300 + b"tail"
    with z.sandbox("wasmtime") as lib:
        assert plain(lib.zlibVersion().copy_string(16)) == zlib.ZLIB_VERSION.encode()
        bound = lib.compressBound(len(data)).verify(lambda v: len(data) < v < 2 * len(data))
        with lib.alloc(bound) as dest, lib.out(Prim.ULONG, initial=bound) as dest_len:
            assert plain(lib.compress2(dest, dest_len, data, len(data), 9)) == z.Z_OK
            n = dest_len.value.verify(lambda v: 0 < v <= bound)
            compressed = plain(dest.read(n))
        assert compressed == zlib.compress(data, 9)
        assert plain(lib.crc32(0, data, len(data))) == zlib.crc32(data)
        assert plain(lib.adler32(1, data, len(data))) == zlib.adler32(data)
        stream, alloc = lib.new(z.z_stream_s)
        assert z.z_stream_s.sizeof(WASM32) == 56 and plain(stream.total_in) == 0
        alloc.free()


ANNOTATED = """
[library]
name = "cn_helpers"
headers = ["{h}"]
sources = ["{c}"]

[functions.cn_sum]
buffers = {{ values = "count" }}

[functions.cn_divmod]
out = ["remainder"]

[functions.cn_join]
returns = {{ string = true, max_len = 64, free = "cn_free" }}

[functions.cn_handle_next]
nullable = []

[functions.cn_printf]
skip = true
"""


@pytest.mark.parametrize("backend", ["wasmtime", "native"])
def test_annotations_make_high_level_helpers(tmp_path: Path, backend: str) -> None:
    spec = tmp_path / "cn_helpers.toml"
    spec.write_text(ANNOTATED.format(h=CONSTRUCTS / "constructs.h", c=CONSTRUCTS / "constructs.c"))
    proc = run_cli("gen", str(spec), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    mod = import_from(tmp_path, "cn_helpers")
    with mod.sandbox(backend) as lib:
        order = sys.byteorder if backend == "native" else "little"
        data = b"".join(v.to_bytes(4, order, signed=True) for v in (5, 6, 7))
        assert plain(lib.helpers.cn_sum(data)) == 18  # count filled in from len(data)
        quotient, remainder = lib.helpers.cn_divmod(17, 5)
        assert (plain(quotient), plain(remainder)) == (3, 2)
        joined = lib.helpers.cn_join("sand", "box")
        assert joined is not None and plain(joined) == b"sandbox"
        with pytest.raises(Exception, match="may not be NULL"):
            lib.helpers.cn_handle_next(None)
        assert plain(lib.cn_divmod(9, 2, lib.alloc(4))) == 4  # the low-level method is intact
        from sandboxlib import TaintError
        with pytest.raises(TaintError, match="longer than max_len"):
            lib.helpers.cn_join("x" * 40, "y" * 40)


@pytest.mark.quick
def test_annotation_naming_an_unknown_parameter(tmp_path: Path) -> None:
    spec = tmp_path / "bad_ann.toml"
    spec.write_text(ANNOTATED.format(h=CONSTRUCTS / "constructs.h", c=CONSTRUCTS / "constructs.c")
                    .replace('out = ["remainder"]', 'out = ["rest"]'))
    proc = run_cli("gen", str(spec), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "[functions.cn_divmod]" in proc.stderr and "'rest'" in proc.stderr
    assert not (tmp_path / "out" / "cn_helpers").exists()


def test_generated_methods_take_positional_arguments_only(H: ModuleType, tmp_path: Path) -> None:
    """As in C: a keyword argument is refused on every call (the first call replaces
    the method with a fast caller), and the stub says so to mypy."""
    with H.sandbox("wasm2c") as lib:
        for _ in range(2):
            with pytest.raises(TypeError):
                lib.hostile_ok(v=1)
            assert plain(lib.hostile_ok(1)) == 2
    script = tmp_path / "kw.py"
    script.write_text("import hostile\nwith hostile.sandbox() as lib:\n    lib.hostile_ok(v=1)\n")
    out = run_mypy(tmp_path / ".mypy", "--strict", str(script),
                   mypypath=package_dir(H).parent).stdout
    assert 'Unexpected keyword argument "v"' in out, out


def test_wasm_cflags_reach_the_wasm_build_only(tmp_path: Path) -> None:
    (tmp_path / "flag.h").write_text("int flag_value(void);\n")
    (tmp_path / "flag.c").write_text(f"/* {tmp_path} */\n#include \"flag.h\"\n"
                                     "int flag_value(void) { return FLAG; }\n")
    spec = tmp_path / "flag.toml"
    spec.write_text('[library]\nname = "flag"\nheaders = ["flag.h"]\nsources = ["flag.c"]\n'
                    'defines = ["FLAG=1"]\nwasm_cflags = ["-DFLAG=2", "-Wno-macro-redefined"]\n')
    assert run_cli("gen", str(spec), "--out", str(tmp_path / "out")).returncode == 0
    flag = import_from(tmp_path / "out", "flag")
    for backend, value in (("wasmtime", 2), ("wasm2c", 2), ("native", 1)):
        with flag.sandbox(backend) as lib:
            assert plain(lib.flag_value()) == value, backend


X86_SIMD = C_SRC / "x86_simd"


def test_x86_intrinsics_compile_to_wasm_simd_and_agree_with_the_cpu(tmp_path: Path) -> None:
    """A spec that does not say: the C includes <emmintrin.h>, so its SSE2 code compiles."""
    spec = tmp_path / "x86_simd.toml"
    spec.write_text(f'[library]\nname = "x86_simd"\nheaders = ["{X86_SIMD / "x86_simd.h"}"]\n'
                    f'sources = ["{X86_SIMD / "x86_simd.c"}"]\n')
    assert run_cli("gen", str(spec), "--out", str(tmp_path / "out")).returncode == 0
    x86_simd = import_from(tmp_path / "out", "x86_simd")
    rng = random.Random(16)
    words = [[rng.getrandbits(32) for _ in range(4)] for _ in range(300)]
    words += [[0] * 4, [0xFFFFFFFF] * 4, [0x80000000, 0x7FFFFFFF, 0x8000, 0x7FFF]]
    with x86_simd.sandbox("native") as native:  # the CPU's SSE2 instructions
        expected = [plain(native.sse2_mix(*w)) for w in words]
    for backend in ("wasmtime", "wasm2c"):
        with x86_simd.sandbox(backend) as lib:
            assert [plain(lib.sse2_mix(*w)) for w in words] == expected, backend


def test_wasm_x86_intrinsics_false_compiles_no_sse_code(tmp_path: Path) -> None:
    spec = tmp_path / "x86_simd.toml"
    spec.write_text(f'[library]\nname = "x86_simd"\nheaders = ["{X86_SIMD / "x86_simd.h"}"]\n'
                    f'sources = ["{X86_SIMD / "x86_simd.c"}"]\nwasm_x86_intrinsics = "yes"\n')
    proc = run_cli("gen", str(spec), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "wasm_x86_intrinsics must be true or false" in proc.stderr
    spec.write_text(spec.read_text().replace('"yes"', "false"))
    proc = run_cli("gen", str(spec), "--out", str(tmp_path / "out"))
    assert proc.returncode != 0 and "emmintrin.h" in proc.stderr, proc.stderr


X86_GUARDED = C_SRC / "x86_guarded"
ALL_SSE_LEVELS = 0b111111  # __SSE__ ... __SSE4_2__ (c_src/x86_guarded/x86_guarded.h)


@pytest.mark.parametrize("opt_out", [False, True], ids=["default", "no-x86-intrinsics"])
def test_sse_code_behind_feature_macros_compiles_by_default(tmp_path: Path,
                                                            opt_out: bool) -> None:
    """A plain wrap of a library whose SSE4.1 path hides behind #ifdef __SSE4_1__ (as most
    do) builds that path for wasm; --no-x86-intrinsics builds its scalar code. Native
    (gcc's x86-64 baseline: SSE2) takes the scalar path: every path agrees."""
    name = "x86_scalar" if opt_out else "x86_guarded"
    proc = run_cli("wrap", name, "--header", str(X86_GUARDED / "x86_guarded.h"),
                   "--source", str(X86_GUARDED / "x86_guarded.c"), "--out", str(tmp_path),
                   *(["--no-x86-intrinsics"] if opt_out else []))
    assert proc.returncode == 0, proc.stderr
    guarded = import_from(tmp_path, name)
    rng = random.Random(41)
    pairs = [[struct.pack("<16i", *(rng.randint(-2**31, 2**31 - 1) for _ in range(16)))
              for _ in range(2)] for _ in range(50)]
    with guarded.sandbox("native") as native:
        expected = [plain(native.guarded_max_sum(a, b)) for a, b in pairs]
    for backend in ("wasmtime", "wasm2c"):
        with guarded.sandbox(backend) as lib:
            assert plain(lib.guarded_levels()) == (0 if opt_out else ALL_SSE_LEVELS), backend
            assert [plain(lib.guarded_max_sum(a, b)) for a, b in pairs] == expected, backend


@pytest.mark.quick
def test_the_trees_in_a_package_are_named_whatever_their_location(tmp_path: Path) -> None:
    """``csrc/dN`` is named in the order of the request (sources, headers, include
    directories), not of the folders' paths: a package generated from sources in a
    build directory and one from sources in a cache are the same (the sdist's wheel)."""
    from sandboxlib.codegen.generate import WrapRequest, copy_sources
    layouts = []
    for first, second in (("a", "z"), ("z", "a")):  # the source's folder sorts first, then last
        root = tmp_path / first
        (root / f"{first}-src").mkdir(parents=True)
        (root / f"{second}-inc").mkdir()
        (root / f"{first}-src" / "lib.c").write_text('#include "lib.h"\n')
        (root / f"{second}-inc" / "lib.h").write_text("int f(void);\n")
        req = WrapRequest("lib", [root / f"{second}-inc" / "lib.h"], [root / f"{first}-src" /
                                                                       "lib.c"],
                          [root / f"{second}-inc"])
        build = copy_sources(req, tmp_path / f"out-{first}")
        files = sorted(str(p.relative_to(tmp_path / f"out-{first}"))
                       for p in (tmp_path / f"out-{first}").rglob("*") if p.is_file())
        layouts.append((build, files))
    assert layouts[0] == layouts[1]
    assert layouts[0][0]["sources"] == ["csrc/d0/lib.c"]  # the first source's tree is d0


@pytest.mark.parametrize("backend", ["native", "wasm2c", "wasmtime"])
def test_a_nested_source_tree_builds_on_every_backend(tmp_path_factory: pytest.TempPathFactory,
                                                      backend: str) -> None:
    """c_src/tree/ is laid out as real projects are (include/tree/tree.h, src/lib/tree.c
    including "../common/scale.h" and "lib/version.h"): the package keeps that layout, so
    the native backend builds it as the wasm build did (it flattened it before)."""
    out = tmp_path_factory.getbasetemp() / "tree-package"
    tree = C_SRC / "tree"
    if not (out / "tree").exists():
        proc = run_cli("wrap", "tree", "--header", str(tree / "include/tree/tree.h"),
                       "--source", str(tree / "src/lib/tree.c"), "--include",
                       str(tree / "include"), "--include", str(tree / "src"), "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    scale = next((out / "tree/csrc").rglob("scale.h"))  # the tree's layout kept
    assert scale.parent.name == "common" and (scale.parent.parent / "lib/tree.c").is_file()
    with import_from(out, "tree").sandbox(backend) as lib:
        assert (plain(lib.tree_scaled_sum(2, 5)), plain(lib.tree_version())) == (21, 103)


@pytest.mark.parametrize("backend", ["native", "wasm2c", "wasmtime"])
def test_array_parameters_are_pointers_whatever_their_size(cn: ModuleType, backend: str) -> None:
    """``const uint8_t data[CN_ARRAY_PARAM(n)]`` (a size no constant gives) was skipped."""
    sig = {f.name: f.sig for f in cn.FUNCTIONS}
    assert sig["cn_checksum"].params[1] == Ptr("uint8_t", const=True)
    assert sig["cn_fill_bytes"].params[1] == Ptr("uint8_t")
    expected = 0
    for byte in b"sandbox":
        expected = (expected * 31 + byte) & 0xFFFFFFFF
    with cn.sandbox(backend) as lib:
        assert plain(lib.cn_checksum(7, b"sandbox")) == expected
        out = lib.alloc(4)
        lib.cn_fill_bytes(4, out, 7)
        assert plain(out.read()) == b"\x07" * 4
