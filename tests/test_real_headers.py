"""``sandboxlib wrap`` on a header written like a real library's (c_src/realistic/):
what wrapping lz4 and sqlite3 ran into (issue 14) works without workarounds.

- a struct with exactly one field makes an importable package, and the field reads and
  writes on every backend;
- functions the header declares but the sources do not define (a configuration-
  dependent API, a source file not given) are left out with one warning each and a
  summary, instead of a bare linker error;
- a function-type typedef (``typedef int rl_handler(void *, int);``) and the
  function-pointer fields of a struct get named signatures (``rl_handler``,
  ``rl_io_methods_xRead``) that ``lib.callback`` takes;
- a generated package that cannot be imported fails ``wrap`` (exit 2, naming the file).
"""

from __future__ import annotations

import gc
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ALL_BACKENDS
from libs import C_SRC, import_from, package_dir, plain, run_mypy

from sandboxlib import ArgumentError, PointerValue, Prim, Ptr, Signature, TaintedPtr, cli
from sandboxlib.backends import BACKENDS
from sandboxlib.codegen import generate
from sandboxlib.codegen.emit_py import emit_proxy
from sandboxlib.toolchain import build_wasm
from sandboxlib.toolchain.wasmbinary import exported_functions
from sandboxlib.toolchain.zig import undefined_exports

REALISTIC = C_SRC / "realistic"
HEADER = REALISTIC / "realistic.h"
SOURCE = REALISTIC / "realistic.c"
BACKENDS_HERE = [b for b in ALL_BACKENDS if b in BACKENDS]
DEFINED = ["rl_version_number", "rl_state_init", "rl_state_level", "rl_for_each", "rl_io_read",
           "rl_io_close", "rl_encode", "rl_open", "rl_close", "rl_set_mode", "rl_keep_text",
           "rl_kept"]


def line_of(text: str) -> int:
    """The line of the header that declares ``text``."""
    return next(i for i, line in enumerate(HEADER.read_text().splitlines(), 1) if text in line)


def wrap_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sandboxlib", "wrap", "realistic", "--header", str(HEADER),
            "--source", str(SOURCE), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def wrapped(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[subprocess.CompletedProcess[str], ModuleType]]:
    """``sandboxlib wrap realistic`` run as a user would, and the package it wrote."""
    out = tmp_path_factory.mktemp("realistic")
    proc = subprocess.run(wrap_command(out), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    pkg = import_from(out, "realistic")
    yield proc, pkg
    sys.modules.pop("realistic", None)
    pkg.LIBRARY._loaded.clear()
    gc.collect()


@pytest.fixture(scope="module")
def R(wrapped: tuple[subprocess.CompletedProcess[str], ModuleType]) -> ModuleType:
    return wrapped[1]


@pytest.fixture(params=BACKENDS_HERE)
def lib(request: pytest.FixtureRequest, R: ModuleType) -> Iterator[Any]:
    with R.sandbox(request.param) as lib:
        yield lib


def test_wrap_warns_once_per_undefined_function_and_sums_up(
        wrapped: tuple[subprocess.CompletedProcess[str], ModuleType]) -> None:
    proc, _ = wrapped
    assert proc.stderr.splitlines() == [
        f"sandboxlib: warning: skipped {HEADER}:{line_of('rl_trace(')}: rl_trace: declared but "
        "not defined by the sources",
        f"sandboxlib: warning: skipped {HEADER}:{line_of('rl_compress_hc(')}: rl_compress_hc: "
        "declared but not defined by the sources",
        "sandboxlib: warning: 2 declared function(s) not defined by the sources, left out: "
        "rl_trace, rl_compress_hc",
    ]
    assert proc.stdout.strip().endswith(": 12 function(s), 2 struct(s), 7 constant(s), "
                                        "2 skipped")


def test_package_holds_only_the_defined_functions(R: ModuleType) -> None:
    assert [f.name for f in R.FUNCTIONS] == DEFINED
    exported = set(exported_functions((package_dir(R) / "module.wasm").read_bytes()))
    assert set(DEFINED) <= exported and not {"rl_trace", "rl_compress_hc"} & exported
    stub = (package_dir(R) / "__init__.pyi").read_text()
    for name in ("rl_trace", "rl_compress_hc"):
        assert not hasattr(R.Realistic, name) and name not in stub


def test_function_types_get_named_signatures(R: ModuleType) -> None:
    void_p = Ptr("void")
    assert R.rl_handler == Signature((void_p, Prim.INT), Prim.INT, ("data", "n"))
    assert R.rl_log_fn == Signature((void_p, Prim.INT), Prim.VOID, ("user", "code"))
    assert R.rl_io_methods_xRead == Signature((void_p, Prim.INT, Prim.INT), Prim.INT,
                                              ("file", "amount", "offset"))
    assert R.rl_io_methods_xClose == Signature((void_p,), Prim.INT, ("file",))
    assert R.rl_io_methods_xLog == R.rl_log_fn
    stub = (package_dir(R) / "__init__.pyi").read_text().splitlines()
    for name in ("rl_handler", "rl_log_fn", "rl_io_methods_xRead", "rl_io_methods_xClose",
                 "rl_io_methods_xLog"):
        assert f"{name}: Signature" in stub


def test_one_field_struct_reads_and_writes(R: ModuleType, lib: Any) -> None:
    assert R.rl_state_s._fields_ == (("level", Prim.INT),)
    state, mem = lib.new(R.rl_state_s)
    state.level = 7
    assert plain(lib.rl_state_level(state)) == 7
    lib.rl_state_init(state, -3)
    assert plain(state.level) == -3
    mem.free()


def test_callback_with_typedef_signature(R: ModuleType, lib: Any) -> None:
    data = lib.alloc(8)
    address = data.address_in(lib.sandbox, "test")
    seen: list[tuple[int, int]] = []

    def handler(d: Any, n: Any) -> int:
        seen.append((plain(d), plain(n)))
        return int(plain(n)) * 2

    cb = lib.callback(handler, R.rl_handler)
    assert plain(lib.rl_for_each(struct.pack("<3i", 1, 2, 3), 3, cb, data)) == 12
    assert seen == [(address, 1), (address, 2), (address, 3)]
    data.free()


def test_callbacks_in_struct_fields(R: ModuleType, lib: Any) -> None:
    file = lib.alloc(8)
    address = file.address_in(lib.sandbox, "test")
    calls: list[tuple[Any, ...]] = []

    def read(f: Any, amount: Any, offset: Any) -> int:
        calls.append(("read", plain(f), plain(amount), plain(offset)))
        return int(plain(amount)) + int(plain(offset))

    def close(f: Any) -> int:
        calls.append(("close", plain(f)))
        return -1

    def log(user: Any, code: Any) -> None:
        calls.append(("log", plain(user), plain(code)))

    methods, mem = lib.new(R.rl_io_methods)
    methods.version = 1
    methods.xRead = lib.callback(read, R.rl_io_methods_xRead)
    methods.xClose = lib.callback(close, R.rl_io_methods_xClose)
    methods.xLog = lib.callback(log, R.rl_io_methods_xLog)
    assert plain(lib.rl_io_read(methods, file, 10, 5)) == 15
    assert plain(lib.rl_io_close(methods, file)) == -1
    assert calls == [("log", address, 10), ("read", address, 10, 5), ("close", address)]
    mem.free()
    file.free()


def test_build_wasm_if_defined_leaves_out_undefined_exports() -> None:
    wasm = build_wasm([SOURCE], exports=[*DEFINED, "rl_trace", "rl_compress_hc"],
                      name="realistic", include_dirs=[REALISTIC], if_defined=True)
    exported = exported_functions(wasm.read_bytes())
    assert set(DEFINED) | {"malloc", "free"} <= set(exported)
    assert not {"rl_trace", "rl_compress_hc"} & set(exported)


@pytest.mark.quick
def test_undefined_exports_reads_only_missing_export_failures() -> None:
    missing = ("wasm-ld: error: symbol exported via --export not found: a\n"
               "wasm-ld: error: symbol exported via --export not found: b\n"
               "wasm-ld: error: too many errors emitted, stopping now (use "
               "--error-limit=0 to see all errors)\n")
    assert undefined_exports(missing) == ["a", "b"]
    assert undefined_exports(missing + "wasm-ld: error: undefined symbol: c\n") is None
    assert undefined_exports("x.c:1:1: error: expected ';'\n") is None


@pytest.mark.parametrize("broken", ["syntax", "runtime"])
def test_unimportable_package_fails_wrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         broken: str) -> None:
    """The guard: what the emitter writes is imported before the package is written
    (here the emitter is made to write a syntax error, or the one-field ``_fields_``
    without its trailing comma, which raises when the class is created)."""
    emit = emit_proxy
    if broken == "syntax":
        monkeypatch.setattr(generate, "emit_proxy", lambda plan: emit(plan) + "def broken(:\n")
    else:
        monkeypatch.setattr(generate, "emit_proxy", lambda plan: emit(plan).replace(
            "(('level', Prim.INT),)", "(('level', Prim.INT))"))
    assert cli.main(wrap_command(tmp_path)[3:]) == 2
    err = capsys.readouterr().err.splitlines()
    why = ("invalid syntax" if broken == "syntax"
           else "ValueError: too many values to unpack (expected 2)")
    first = next(line for line in err if line.startswith("sandboxlib: error:"))
    assert first.startswith(f"sandboxlib: error: the generated "
                            f"{tmp_path / 'realistic' / '__init__.py'} cannot be imported: line ")
    assert first.endswith(why)
    shown = "def broken(:" if broken == "syntax" else "class rl_state_s(Struct):"
    assert err[-1] == f"    {shown}"  # the offending line, as the error's detail
    assert list(tmp_path.iterdir()) == []  # nothing written, the staging directory removed


def test_out_parameters_are_sized_for_the_backend(R: ModuleType, lib: Any) -> None:
    """``lib.out(T)`` is as large as T where the library runs: an in/out ``size_t *``
    and a handle through ``T **`` work the same on wasm32 and natively (a 4-byte
    allocation for the size_t overflowed on the native backend)."""
    dst = lib.alloc(16)
    size = lib.out(Prim.ULONG, initial=16)
    assert plain(lib.rl_encode(b"abc", 3, dst, size)) == 0
    assert plain(size.value) == 3 and plain(dst.read(3)) == b"cba"
    size.value = 2
    assert plain(lib.rl_encode(b"abcd", 4, dst, size)) == -1
    assert plain(size.value) == 4
    handle = lib.out(Ptr("rl_state"))
    assert plain(lib.rl_open(7, handle)) == 0
    state = handle.value
    assert isinstance(state, TaintedPtr) and not state.is_null()
    assert plain(lib.rl_state_level(state)) == 7
    lib.rl_close(state)
    with pytest.raises(ArgumentError, match="does not fit"):
        size.value = -1


def test_out_annotation_returns_integers_and_pointers(tmp_path: Path) -> None:
    """The spec's ``out`` takes ``T *`` of an integer and ``T **``: the helper returns
    the value and the pointer, tainted."""
    spec = tmp_path / "spec.toml"
    spec.write_text('[functions.rl_open]\nout = ["out"]\n'
                    '[functions.rl_encode]\nbuffers = { src = "srcSize" }\n'
                    '[functions.rl_keep_text]\nkeep = ["text"]\n')
    command = wrap_command(tmp_path, "--spec", str(spec))
    command[command.index("realistic")] = "realistic_out"
    proc = subprocess.run(command, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    pkg = import_from(tmp_path, "realistic_out")
    try:
        for backend in BACKENDS_HERE:
            with pkg.sandbox(backend) as lib:
                code, state = lib.helpers.rl_open(5)
                assert plain(code) == 0 and isinstance(state, TaintedPtr)
                assert plain(lib.rl_state_level(state)) == 5
                lib.rl_close(state)
                # kept: the library reads the text after later calls copied others in
                assert plain(lib.helpers.rl_keep_text(b"kept text", pkg.RL_STATIC)) == 0
                lib.rl_encode(b"other bytes", 11, lib.alloc(16), lib.out(Prim.ULONG, 16))
                assert plain(lib.rl_kept().copy_string(64)) == b"kept text"
        stub = (tmp_path / "realistic_out" / "__init__.pyi").read_text()
        assert "def rl_open(self, level: int) -> tuple[Tainted[int], TaintedPtr]: ..." in stub
    finally:
        sys.modules.pop("realistic_out", None)


def test_pointer_valued_macros_pass_at_the_backends_width(R: ModuleType, lib: Any) -> None:
    """``#define RL_TRANSIENT ((rl_destructor)-1)`` is a constant that passes as
    (rl_destructor)-1 on wasm32 and natively; the pointer is compared in C."""
    assert R.RL_TRANSIENT == PointerValue(-1) and R.RL_STATIC == PointerValue(0)
    assert plain(lib.rl_keep_text(b"copied now", R.RL_TRANSIENT)) == 1
    lib.rl_encode(b"other bytes", 11, lib.alloc(16), lib.out(Prim.ULONG, 16))
    assert plain(lib.rl_kept().copy_string(64)) == b"copied now"
    assert plain(lib.rl_keep_text(b"", R.RL_STATIC)) == 0
    stub = (package_dir(R) / "__init__.pyi").read_text()
    assert "RL_TRANSIENT: PointerValue" in stub


def test_stubs_tell_pointers_apart_and_show_prototypes(R: ModuleType, tmp_path: Path) -> None:
    """Each struct pointed to has a pointer type of its own in the stubs (mypy refuses
    an ``rl_state *`` where a ``struct rl_io_methods *`` goes), struct classes answer to
    their typedef names too, and the stubs carry each function's C prototype."""
    assert R.rl_state is R.rl_state_s
    package = package_dir(R)
    stub = (package / "__init__.pyi").read_text()
    assert "rl_state_s_ptr = NewType('rl_state_s_ptr', TaintedPtr)" in stub
    assert '"""int rl_state_level(const struct rl_state_s * state)  [realistic.h:' in stub
    script = tmp_path / "user.py"
    script.write_text(
        "from typing import cast\n"
        "import realistic\n"
        "from sandboxlib import TaintedPtr\n"
        "lib = realistic.sandbox('wasmtime')\n"
        "def use(p: TaintedPtr, view: realistic.rl_state) -> None:\n"
        "    state = cast(realistic.rl_state_s_ptr, p)\n"
        "    lib.rl_state_level(state)\n"
        "    lib.rl_state_level(view)\n"
        "    lib.rl_io_read(state, None, 1, 2)\n")
    proc = run_mypy(tmp_path / "cache", "--strict", str(script), mypypath=package.parent)
    assert proc.returncode == 1, proc.stdout
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "user.py:9:" in errors[0] and "rl_io_read" in errors[0], errors


def test_enums_are_intenums_accepted_where_the_c_enum_goes(R: ModuleType, lib: Any) -> None:
    state, _ = lib.new(R.rl_state)
    assert plain(lib.rl_set_mode(state, R.rl_mode.RL_SMALL)) == 2 and plain(state.level) == 9
    assert plain(lib.rl_set_mode(state, R.RL_FAST)) == 1 and plain(state.level) == 1
    assert [m.name for m in R.rl_mode] == ["RL_FAST", "RL_SMALL"]
    stub = (package_dir(R) / "__init__.pyi").read_text()
    assert "mode: rl_mode | int," in stub
