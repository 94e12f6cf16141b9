"""Names become code (issue 11, item 7): input to the generator is data.

c_src/names/ declares C names that are legal C and collide with Python or with the
proxy; it is wrapped from a directory and files whose names carry Python injections.
"""

from __future__ import annotations

import ast
import math
import re
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from libs import C_SRC, ROOT, import_from, plain, run_mypy

from golden import preprocessed, tiny_request
from sandboxlib import Allocation, Signature
from sandboxlib.codegen.emit_py import emit_proxy
from sandboxlib.codegen.emit_pyi import emit_stub
from sandboxlib.codegen.generate import WrapRequest, plan_api, plan_for
from sandboxlib.codegen.names import (HELPERS_MEMBERS, LIBRARY_PROXY_MEMBERS, STRUCT_MEMBERS,
                                      members, python_names)
from sandboxlib.codegen.parse import parse_api
from sandboxlib.runtime.handles import HandleTable
from sandboxlib.proxy import Helpers, LibraryProxy, Struct
from sandboxlib.runtime.objects import CallbackHandle
from sandboxlib.runtime.sandbox import Sandbox

NAMES = C_SRC / "names"
INJECT = "x'+__import__('os').system('touch PWNED')+'"
# zig's depfile parser rejects '"' and '\' in the path of a compiled source (a
# toolchain limit): the header's folder and name carry them instead; the header's
# name has no '"' since the native backend writes it into an #include line.
SOURCE_DIR = f"src '{{x}} {INJECT}"
SOURCE = f"{{y}}{INJECT}.c"
HEADER_DIR = f'hdr "q" \\ {{z}} """ {INJECT}'
HEADER = f"h'''{{}}\\{INJECT}.h"
EVIL = '""" + __import__("os").system("touch PWNED") + \'\'\'\\'

RENAMED = {  # what (C name) -> Python name; one warning line each
    "constant None": "None_", "constant open": "open_", "constant Prim": "Prim_",
    "constant LIBRARY": "LIBRARY_", "constant Names": "Names_", "constant lambda": "lambda_",
    "constant yield": "yield_", "constant def": "def__", "constant class": "class__",
    "callback type Signature": "Signature_", "struct Struct": "Struct_",
    "function alloc": "alloc_", "function handles": "handles_", "function callback": "callback_",
    "function view": "view_", "function sandbox": "sandbox_", "function helpers": "helpers_",
    "function _bind": "_bind_", "function True": "True_", "function __init__": "__init___",
    "function __len__": "__len___", "function __secret": "__secret___",
    "parameter self of alloc": "self__",
    "parameter self of __init__": "self_",
    "field True of struct Struct": "True_", "field _sandbox of struct Struct": "_sandbox_",
    "field layout of struct Struct": "layout_", "field _address of struct view": "_address_",
    "field address of struct view": "address_", "field False of struct view": "False_",
    "field __init__ of struct view": "__init___", "field snapshot of struct view": "snapshot_",
    "field Tainted of struct view": "Tainted_",
}


def pwned(*places: Path) -> list[Path]:
    return [p for d in places for p in d.rglob("PWNED")] + [
        p for p in (ROOT / "PWNED", Path.cwd() / "PWNED") if p.exists()]


@pytest.fixture(scope="session")
def wrapped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(root, stderr) of `sandboxlib wrap names` run from the hostile source folder,
    with paths relative to it; the package is written to root/out."""
    root = tmp_path_factory.mktemp("names")
    src, hdr = root / SOURCE_DIR, root / SOURCE_DIR / HEADER_DIR
    hdr.mkdir(parents=True)
    shutil.copyfile(NAMES / "names.h", src / "names.h")  # what names.c includes
    shutil.copyfile(NAMES / "names.c", src / SOURCE)
    shutil.copyfile(NAMES / "names.h", hdr / HEADER)
    proc = subprocess.run([sys.executable, "-m", "sandboxlib", "wrap", "names", "--header",
                           f"{HEADER_DIR}/{HEADER}", "--source", SOURCE, "--out",
                           str(root / "out")], capture_output=True, text=True, cwd=src)
    assert proc.returncode == 0, proc.stderr
    yield root, proc.stderr
    assert not pwned(root)


@pytest.fixture(scope="session")
def names(wrapped: tuple[Path, str]) -> Iterator[ModuleType]:
    module = import_from(wrapped[0] / "out", "names")
    yield module
    sys.modules.pop("names", None)
    module.LIBRARY._loaded.clear()


@pytest.mark.quick
def test_the_rule() -> None:
    assert python_names(["None", "class", "match", "type", "_", "print"], ()) == \
        ["None_", "class_", "match", "type", "_", "print"]  # soft keywords are names
    assert python_names(["self", "self_", "x", "x"], {"self"}) == ["self__", "self_", "x", "x_"]
    assert python_names(["__init__", "__x", "___"], ()) == ["__init___", "__x___", "___"]
    assert python_names(["a$b", "a_b", "alloc"], {"alloc"}) == ["a_b_", "a_b", "alloc_"]


@pytest.mark.quick
@pytest.mark.parametrize(("data", "classes"), [(LIBRARY_PROXY_MEMBERS, (LibraryProxy,)),
                                               (HELPERS_MEMBERS, (Helpers,)),
                                               (STRUCT_MEMBERS, (Struct,))])
def test_the_reserved_members_are_the_classes_members(data: frozenset[str],
                                                      classes: tuple[type, ...]) -> None:
    """The generator holds the members of the classes a package subclasses as data (it
    imports no runtime): every member the rule would otherwise keep, and no other."""
    assert data == {n for n in members(*classes) if python_names([n], ()) == [n]}


# C names like what a generated module may import (the proxy's or the stub's); with
# RICH, the package also has what makes the modules import the rest.
IMPORTABLE = """
#define IntEnum 1
#define ArrayOf 2
#define NoReturn 3
#define ArgumentError 4
#define PointerValue 5
#define builtins 6
#define Prim 7
#define Limits 8
#define Path 9
#define annotations 10
struct pt { int x; };
int Tainted(struct pt *p);
int pt_ptr(int HostData);
int HostData(void);
"""
RICH = """
typedef void (*destructor)(void *);
#define STATIC ((destructor)-1)
enum mode { MODE_A, MODE_B };
struct arr { int vals[2]; };
int set_mode(enum mode m, const struct pt *p, struct arr *a);
"""


def ruff_problems(text: str, filename: str) -> list[str]:
    """What ruff finds of unused, undefined and shadowed names in generated ``text``."""
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select",
                           "F401,F811,F821,F822", "--output-format", "concise",
                           "--stdin-filename", filename, "-"], input=text,
                          capture_output=True, text=True)
    problems = [ln for ln in proc.stdout.splitlines() if ln.startswith(filename)]
    assert proc.returncode == (1 if problems else 0), proc.stderr  # ruff ran
    return problems


@pytest.mark.quick
@pytest.mark.parametrize("rich", [False, True])
def test_a_c_name_is_renamed_only_for_what_the_modules_import(tmp_path: Path,
                                                              rich: bool) -> None:
    """A C name is renamed for a name the proxy or its stubs really import (or define),
    and only then: the modules import what they use, nothing else."""
    header = tmp_path / "imp.h"
    header.write_text(IMPORTABLE + (RICH if rich else ""))
    plan = plan_api(WrapRequest("imp", [header], [header]),
                    parse_api(preprocessed(header), [header]))
    kept = {c.name: c.value for c in plan.constants}
    always = {"Prim_": 7, "Limits_": 8, "Path_": 9, "annotations_": 10}  # always imported
    assert always.items() <= kept.items() and kept["ArgumentError"] == 4  # no helper
    assert kept["builtins"] == 6  # no member shadows a builtin: no `import builtins`
    used = {"IntEnum": 1, "ArrayOf": 2, "NoReturn": 3, "PointerValue": 5}
    assert {n + "_" if rich else n: v for n, v in used.items()}.items() <= kept.items()
    methods = [fp.pyname for fp in plan.functions]
    # a method named as what the stubs' annotations use in the class: a pointer type,
    # Tainted; HostData only where a const struct pointer is taken
    assert methods[:3] == ["Tainted_", "pt_ptr_", "HostData_" if rich else "HostData"]
    assert plan.functions[1].params == ["HostData"]  # a parameter shadows nothing
    proxy, stub = emit_proxy(plan), emit_stub(plan)
    assert ruff_problems(proxy, "imp/__init__.py") == []
    assert ruff_problems(stub, "imp/__init__.pyi") == []
    scope: dict[str, Any] = {"__file__": str(tmp_path / "imp" / "__init__.py")}
    exec(compile(proxy, "imp", "exec"), scope)
    assert scope["Prim_"] == 7 and scope["IntEnum_" if rich else "IntEnum"] == 1


@pytest.mark.quick
@pytest.mark.parametrize("name", ["tiny", "names", "constructs", "sample", "hostile"])
def test_generated_modules_import_exactly_what_they_use(name: str) -> None:
    """The modules import each name they use and no other, and no C name shadows an
    import (ruff's unused, undefined and redefined names)."""
    if name == "tiny":
        req = tiny_request()
        plan = plan_api(req, parse_api(preprocessed(req.headers[0]), req.headers))
    else:
        folder = C_SRC / name
        plan = plan_for(WrapRequest(name, sorted(folder.glob("*.h")), sorted(folder.glob("*.c")),
                                    [folder]))
    assert ruff_problems(emit_proxy(plan), f"{name}/__init__.py") == []
    assert ruff_problems(emit_stub(plan), f"{name}/__init__.pyi") == []


def test_wrap_warns_once_per_rename(wrapped: tuple[Path, str]) -> None:
    lines = [ln for ln in wrapped[1].splitlines() if "renamed" in ln]
    found = [re.fullmatch(r"sandboxlib: warning: renamed (.*?:\d+: )?(.*) -> (\w+)", ln)
             for ln in lines]
    assert {m[2]: m[3] for m in found if m} == RENAMED and len(lines) == len(RENAMED), lines
    assert all(m[1] and f"{HEADER}:" in m[1] for m in found if m and "callback" not in m[2])
    assert not pwned(wrapped[0])


@pytest.mark.parametrize("stub", [False, True])
def test_input_stays_data(wrapped: tuple[Path, str], names: ModuleType, stub: bool) -> None:
    text = (wrapped[0] / "out" / "names" / ("__init__.pyi" if stub else "__init__.py")).read_text()
    assert "PWNED" in text  # carried, as data only:
    tree = ast.parse(text)
    code = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
        {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not {"__import__", "system", "os"} & code
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert text.count("PWNED") == sum(s.count("PWNED") for s in strings if isinstance(s, str))
    if not stub:
        assert EVIL in strings and any(isinstance(s, str) and s.startswith("csrc/")
                                       and s.endswith(f"/{SOURCE}") for s in strings)
        assert any(HEADER in s for s in strings if isinstance(s, str))  # in docstrings
    assert not pwned(wrapped[0])


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c", "native"])
def test_renamed_functions_call_their_c_function(names: ModuleType, backend: str) -> None:
    with names.sandbox(backend) as lib:
        assert plain(lib.alloc_(3, 4)) == 34
        assert plain(lib.handles_(10, 3)) == 7
        assert plain(lib.callback_(1)) == 101
        assert plain(lib.view_(5)) == 15
        assert plain(lib.sandbox_()) == 41 and plain(lib.helpers_()) == 42
        assert plain(lib._bind_(4)) == 8 and plain(lib.True_()) == 7
        assert plain(lib.print(9)) == -9 and plain(lib.match(1)) == 2
        assert plain(lib.__init___(1)) == 1001 and plain(lib.__secret___(0)) == 0x55
        assert plain(lib.__len___()) == 5
        with pytest.raises(TypeError):
            len(lib)  # no special method was defined by a C name
        assert plain(lib.names_evil().copy_string(100)) == EVIL.encode()
        # the proxy's own members still work, after the C functions were bound
        with lib.alloc(8) as buf:
            assert isinstance(buf, Allocation)
        assert isinstance(lib.sandbox, Sandbox) and isinstance(lib.handles, HandleTable)
        assert type(lib.helpers).__name__ == "NamesHelpers"
        cb = lib.callback(lambda a, b: plain(a) * plain(b), names.Signature_)
        assert isinstance(cb, CallbackHandle) and plain(lib.names_call(cb, 6, 7)) == 42
        v, mem = lib.new(names.struct_view)
        assert lib.view(names.struct_view, mem).address == v.address
        mem.free()


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c", "native"])
def test_renamed_fields_read_their_offsets(names: ModuleType, backend: str) -> None:
    with names.sandbox(backend) as lib:
        v, mem = lib.new(names.struct_view)
        assert plain(lib.names_fill(v)) == names.struct_view.sizeof(lib.sandbox.model)
        read = {n: plain(getattr(v, n)) for n, _ in names.struct_view._fields_ if n != "inner"}
        assert read == {"_address_": 1, "address_": 2, "False_": 3, "type": 4, "bytes": 5,
                        "property": b"prop", "__init___": 6, "snapshot_": 7, "Tainted_": 8,
                        "view": 13}
        inner = v.inner
        assert type(inner) is names.Struct_ and issubclass(names.Struct_, Struct)
        assert [plain(inner.True_), plain(inner._sandbox_), plain(inner.layout_),
                plain(inner.value)] == [9, 10, 11, 12]
        v._address_ = 99  # written at the field's offset, not over the view's own state
        assert plain(v._address_) == 99 and plain(v.address_) == 2
        assert isinstance(v.address, int) and set(v.snapshot()) == {*read, "inner"}
        mem.free()


def test_constants_keep_their_values(names: ModuleType) -> None:
    assert (names.None_, names.open_, names.Prim_, names.LIBRARY_, names.Names_) == (1, 2, 3, 4, 5)
    assert (names.class_, names.lambda_, names.yield_, names.def__, names.def_,
            names.class__) == (6, 10, 11, 12, 13, 14)
    assert names.NAMES_EVIL == EVIL and names.NAMES_HUGE == math.inf
    assert isinstance(names.Signature_, Signature) and callable(names.sandbox)
    assert names.LIBRARY.name == "names" and issubclass(names.Names, LibraryProxy)


GOOD = """
import names
with names.sandbox() as lib:
    n: int = lib.alloc_(1, 2).verify(lambda v: v < 100) + lib.match(1).verify(lambda v: v < 9)
    v, mem = lib.new(names.struct_view)
    b: bytes = v.property.verify(lambda s: len(s) == 4)
    k: int = v._address_.verify(lambda x: x >= 0) + v.inner.True_.verify(lambda x: x >= 0)
    p = lib.names_evil()
    raw = lib.alloc(4)
"""


def test_mypy_accepts_the_generated_package(wrapped: tuple[Path, str], names: ModuleType,
                                            tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    out = wrapped[0] / "out"
    for target in (["-p", "names"], [str(tmp_path / "good.py")]):
        proc = run_mypy(tmp_path / ".mypy", "--strict", *target, mypypath=out)
        assert proc.returncode == 0, proc.stdout


@pytest.mark.quick
def test_any_file_name_is_a_literal(tmp_path: Path) -> None:
    """Names zig cannot compile (quotes, backslashes, newlines) still only become data:
    the header is parsed from such a folder, and the emitted paths are literals."""
    folder = tmp_path / f'a"b\\c """ {INJECT}'
    folder.mkdir()
    shutil.copyfile(NAMES / "names.h", folder / "names.h")
    plan = plan_for(WrapRequest("names", [folder / "names.h"], [NAMES / "names.c"]))
    assert {f.name for f in plan.functions} >= {"alloc", "view", "names_fill"}
    assert {sp.tag for sp in plan.structs} == {"Struct", "view"}  # found in that header
    weird = [f'csrc/d0/q"{INJECT}\\.c', 'csrc/d0/"""\n\'\'\'.c']
    plan.build = {"sources": weird, "headers": [], "include_dirs": []}
    plan.headers = [f'/x/"""{INJECT}\\.h']
    for text in (emit_proxy(plan), emit_stub(plan)):
        tree = ast.parse(text)
        assert not any(isinstance(n, ast.Name) and n.id == "__import__" for n in ast.walk(tree))
    scope: dict[str, Any] = {"__file__": str(tmp_path / "pkg" / "__init__.py")}
    exec(compile(emit_proxy(plan), "names", "exec"), scope)
    assert scope["LIBRARY"].sources == tuple(tmp_path / "pkg" / w for w in weird)
    assert scope["__doc__"].startswith("names: sandboxed proxy generated by sandboxlib")
    assert plan.headers[0].rsplit("/", 1)[1] in scope["__doc__"]
    assert not pwned(tmp_path)


@pytest.mark.quick
@pytest.mark.parametrize("folder", ["ünï dïr", os.fsdecode(b"latin1-\xe9"), "back\\12"])
def test_a_header_in_a_folder_named_outside_ascii_is_parsed(tmp_path: Path, folder: str) -> None:
    """A header in a folder whose name clang's line markers escape (octal, byte by
    byte: UTF-8, or bytes in no encoding) still gives its functions and types (before:
    'no function can be proxied', the markers naming another file)."""
    (tmp_path / folder).mkdir()
    shutil.copyfile(NAMES / "names.h", tmp_path / folder / "names.h")
    plan = plan_for(WrapRequest("names", [tmp_path / folder / "names.h"], [NAMES / "names.c"]))
    assert {f.name for f in plan.functions} >= {"alloc", "view", "names_fill"}
    assert {sp.tag for sp in plan.structs} == {"Struct", "view"}
    if "\udce9" in folder:  # the native build's C source, which cffi writes in UTF-8
        from sandboxlib import BuildError, Function, Library, Prim
        lib = Library("one", (Function("one", Signature((), Prim.INT)),),
                      sources=(C_SRC / "sample" / "sample.c",),
                      headers=(tmp_path / folder / "names.h",))
        with pytest.raises(BuildError, match="not UTF-8.*rename it"):
            lib.sandbox("native")


@pytest.mark.parametrize("bad", ['quote"d', "back\\slash", "line\nbreak"])
def test_paths_no_compiler_can_take_are_refused_clearly(tmp_path: Path, bad: str) -> None:
    """A file name never reaches C source or a compiler's command line where it would
    be misread: the build stops with a BuildError naming the file."""
    from sandboxlib import BuildError, Function, Library, Prim
    from sandboxlib.toolchain import build_wasm
    source = tmp_path / f"{bad}.c"
    source.write_text("int one(void) { return 1; }\n")
    header = tmp_path / f"{bad}.h"
    header.write_text("int one(void);\n")
    with pytest.raises(BuildError, match="rename it"):
        build_wasm([source], exports=["one"])
    if '"' in bad or "\n" in bad:
        lib = Library("one", (Function("one", Signature((), Prim.INT)),),
                      sources=(C_SRC / "sample" / "sample.c",), headers=(header,))
        with pytest.raises(BuildError, match="cannot be #included"):
            lib.sandbox("native")
