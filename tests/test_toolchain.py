"""The wasm toolchain: reactor modules with chosen exports, cached by content."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from sandboxlib import BuildError, Limits
from sandboxlib.backends.wasm2c.translate import translate
from sandboxlib.backends.wasmtime.engine import EngineKind, compiled_module
from sandboxlib.toolchain import build_wasm
from sandboxlib.toolchain.cache import CACHE_ENV
from sandboxlib.toolchain.cext import build_extension
from sandboxlib.toolchain.guard import NO_COMPILE_ENV, CompileDisabled, compiling_disabled
from sandboxlib.toolchain.preinit import preinitialized


def exports_of(path: Path) -> set[str]:
    module = wasmtime.Module.from_file(wasmtime.Engine(), str(path))
    return {e.name for e in module.exports}


def test_reactor_module_exports_what_was_asked(tmp_path: Path) -> None:
    src = tmp_path / "twice.c"
    src.write_text("int twice(int v) { return 2 * v; }\nint hidden(int v) { return v; }\n")
    wasm = build_wasm([src], exports=["twice"], name="twice")
    names = exports_of(wasm)
    assert {"twice", "malloc", "free", "memory", "_initialize"} <= names
    assert "hidden" not in names and "_start" not in names


def test_same_inputs_are_not_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "cached.c"
    src.write_text("int one(void) { return 1; }\n")
    first = build_wasm([src], exports=["one"], name="cached")

    def no_compiler(*args: object, **kwargs: object) -> None:
        raise AssertionError("the compiler ran for inputs already built")

    monkeypatch.setattr(subprocess, "run", no_compiler)
    assert build_wasm([src], exports=["one"], name="cached") == first


def test_changed_header_means_a_rebuild(tmp_path: Path) -> None:
    (tmp_path / "value.h").write_text("#define VALUE 1\n")
    src = tmp_path / "uses.c"
    src.write_text('#include "value.h"\nint value(void) { return VALUE; }\n')
    first = build_wasm([src], exports=["value"], name="uses")
    (tmp_path / "value.h").write_text("#define VALUE 2\n")
    assert build_wasm([src], exports=["value"], name="uses") != first


def test_compiler_error_carries_the_compilers_message(tmp_path: Path) -> None:
    src = tmp_path / "broken.c"
    src.write_text("int broken(void) { return undeclared_thing; }\n")
    with pytest.raises(BuildError) as err:
        build_wasm([src], exports=["broken"], name="broken")
    assert "undeclared_thing" in str(err.value) and "broken.c" in err.value.output


def test_missing_source_is_a_build_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="does not exist"):
        build_wasm([tmp_path / "nope.c"], exports=["x"])


@pytest.mark.parametrize("cc", ["/nonexistent/cc", ""])
def test_a_missing_c_compiler_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       cc: str) -> None:
    """The C backends' first build says which compiler is missing, not cffi's traceback."""
    monkeypatch.setenv("CC", cc)
    source = tmp_path / "one.c"
    source.write_text(f"int one(void) {{ return 1; }} /* {tmp_path} */\n")
    named = re.escape(repr(cc)) if cc else r"none \(it is empty\)"
    with pytest.raises(BuildError, match=rf"native backend needs a C compiler, and the one "
                                         rf"named by \$CC, {named}, is not found"):
        build_extension("native", "one", "int one(void);", "", [source])



@pytest.mark.quick
def test_every_compiling_entry_point_refuses_while_compiling_is_disabled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$SANDBOXLIB_NO_COMPILE (set by `make quick`): each entry point raises at once,
    before its cache is looked at (so the cache is not even made)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    for setting, disabled in [("", False), ("0", False), ("1", True), ("yes", True)]:
        monkeypatch.setenv(NO_COMPILE_ENV, setting)
        assert compiling_disabled() is disabled
    src = tmp_path / "x.c"
    src.write_text("int x(void) { return 1; }\n")
    wasm = tmp_path / "x.wasm"
    wasm.write_bytes(b"not wasm")  # never read while compiling is disabled
    attempts: dict[str, Callable[[], object]] = {
        "compiling x to wasm32": lambda: build_wasm([src], exports=["x"], name="x"),
        "compiling x for the native backend":
            lambda: build_extension("native", "x", "int x(void);", "", [src]),
        "translating x.wasm with wasm2c": lambda: translate(wasm),
        "compiling x.wasm with wasmtime": lambda: compiled_module(EngineKind(fuel=False), wasm),
        "pre-initializing x": lambda: preinitialized(wasm, Limits(), "x"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(CompileDisabled, match=re.escape(what)):
            attempt()
    assert not cache.exists()
