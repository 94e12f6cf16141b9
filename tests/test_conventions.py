"""What users of a Python package expect: standard exception families, ValueError for
misuse and for a closed object, informative reprs, the public names, a pickling error
that names the way to another process, and no output unless logging is configured."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import time
import tomllib
import xml.parsers.expat as pyexpat
import zlib
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest

from conftest import ALL_BACKENDS
from libs import BINOP, HOSTILE_CB, plain

import sandboxlib
from sandboxlib import (ClosedError, Library, LimitExceeded, PoisonedError, Prim, SandboxError,
                        SandboxPool, Tainted, UnknownBackendError)
from sandboxlib.progress import set_quiet


# -- errors ---------------------------------------------------------------------------


@pytest.mark.quick
def test_closed_is_a_poisoned_error_and_a_value_error() -> None:
    assert issubclass(ClosedError, PoisonedError) and issubclass(ClosedError, ValueError)
    assert issubclass(LimitExceeded, SandboxError)


def test_a_closed_sandbox_raises_closed_error_everywhere(sample_lib: Library,
                                                         isolating_backend: str) -> None:
    sb = sample_lib.sandbox(isolating_backend)
    add = sb.sample_add
    assert plain(add(1, 2)) == 3
    sb.close()
    for use in (lambda: add(1, 2), lambda: sb.sample_add(1, 2), lambda: sb.sample_strlen(b"x"),
                lambda: sb.alloc(8), lambda: sb.callback(lambda a, b: a, BINOP),
                lambda: sb.handles.new(object())):
        with pytest.raises(ValueError, match="sample sandbox is closed") as info:
            use()
        assert isinstance(info.value, ClosedError)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_memory_of_a_closed_sandbox_raises_closed_error(sample_lib: Library,
                                                        backend: str) -> None:
    """Whatever outlives a sandbox and reaches into its memory (the Memory object, a
    pointer it returned, an allocation, an out-cell, a callback handle) says it is
    closed, as a ``ClosedError``."""
    sb = sample_lib.sandbox(backend)
    text = sb.sample_greet(b"bob")
    alloc = sb.copy_in(b"hello")
    cell = sb.out(Prim.INT, 5)
    handle = sb.callback(lambda a, b: a, BINOP)
    mem, address = sb.memory, alloc.address
    sb.close()
    uses: list[Callable[[], object]] = [
        lambda: mem.read(address, 5), lambda: mem.write(address, b"x"),
        lambda: mem.read_cstring(address, 8), lambda: mem.view(address, 5),
        lambda: text.copy_string(8), lambda: text.copy_bytes(2),
        lambda: alloc.read(), lambda: alloc.write(b"x"), lambda: alloc.read_int(Prim.INT),
        lambda: cell.value, lambda: sb.borrow(text, 2), lambda: sb.borrow(alloc, 2),
        lambda: alloc.address_in(sb, "use"), lambda: handle.address_in(sb, "use")]
    if backend != "native":
        uses.append(mem.whole)
    for use in uses:
        with pytest.raises(ValueError, match="closed") as info:
            use()
        assert isinstance(info.value, ClosedError), info.value


def test_a_closed_wasm2c_instance_refuses_a_pin(sample_lib: Library) -> None:
    sb = sample_lib.sandbox("wasm2c")
    raw = sb.memory._raw
    sb.close()
    with pytest.raises(ClosedError, match="closed"):
        raw.pin()


def test_a_native_callback_may_close_its_own_sandbox(sample_lib: Library) -> None:
    """The library may still call a callback of a sandbox closed under it (its address
    is in C's hands): on the native backend that call must not reach freed code (it
    crashed the host); the removed callback answers 0 (native code cannot trap)."""
    sb = sample_lib.sandbox("native")
    values = sb.copy_in(bytes(16))

    def closing(a: Tainted[int], b: Tainted[int]) -> int:
        sb.close()
        return 1
    assert plain(sb.sample_fold(values, 4, sb.callback(closing, BINOP), 5)) == 0
    with pytest.raises(ClosedError):
        sb.sample_add(1, 2)


def test_a_closed_proxy_raises_a_value_error() -> None:
    from sandboxlib.wrapped.zlib import _package
    lib = _package.sandbox("wasmtime")
    lib.close()
    with pytest.raises(ValueError, match="closed"):
        lib.crc32_z(0, b"x", 1)


def test_wrapped_zlib_errors_are_zlib_errors() -> None:
    import sandboxlib.wrapped.zlib as wz
    assert issubclass(wz.error, zlib.error) and issubclass(wz.error, SandboxError)
    with pytest.raises(zlib.error):
        wz.decompress(b"not zlib data")
    with pytest.raises(LimitExceeded) as info:  # the output guard: sandboxlib's and zlib's
        wz.decompress(zlib.compress(bytes(1 << 16)), max_output=1024)
    assert isinstance(info.value, zlib.error)


@pytest.mark.parametrize("call", ["decompress", "crc32", "compressobj", "decompressobj"])
def test_an_unknown_backend_is_a_value_error_in_wrapped_zlib(call: str) -> None:
    import sandboxlib.wrapped.zlib as wz
    args: tuple[Any, ...] = (zlib.compress(b"x"),) if call in ("decompress", "crc32") else ()
    with pytest.raises(ValueError, match="bogus") as info:
        getattr(wz, call)(*args, backend="bogus")
    assert isinstance(info.value, UnknownBackendError)


def test_wrapped_expat_errors_are_pyexpats() -> None:
    import sandboxlib.wrapped.expat as wx
    assert wx.error is wx.ExpatError and issubclass(wx.ExpatError, pyexpat.ExpatError)
    parser = wx.ParserCreate(backend="wasmtime")
    with pytest.raises(pyexpat.ExpatError):
        parser.Parse(b"<a><b></a>", True)
    with pytest.raises(ValueError):
        wx.ParserCreate(backend="bogus")


def test_wrapped_lz4_errors_are_python_lz4s() -> None:
    import lz4.block

    import sandboxlib.wrapped.lz4 as wl
    assert issubclass(wl.LZ4BlockError, lz4.block.LZ4BlockError)
    assert issubclass(wl.LZ4BlockError, SandboxError)
    with pytest.raises(lz4.block.LZ4BlockError):
        wl.decompress(b"\xff" * 16, 100)
    with pytest.raises(ValueError):
        wl.compress(b"x", backend="bogus")


# -- reprs ------------------------------------------------------------------------------


def test_a_sandbox_says_what_it_is_and_whether_it_is_usable(hostile_lib: Library) -> None:
    sb = hostile_lib.sandbox("wasmtime")
    assert repr(sb) == "<Sandbox hostile on wasmtime: open>"
    with pytest.raises(SandboxError):
        sb.hostile_unreachable()
    assert repr(sb).startswith("<Sandbox hostile on wasmtime: poisoned (trap in ")
    sb.close()
    assert repr(sb) == "<Sandbox hostile on wasmtime: closed>"


def test_a_proxy_names_its_class_library_backend_and_state() -> None:
    from sandboxlib.wrapped.zlib import _package
    lib = _package.sandbox("wasmtime")
    assert repr(lib) == f"<{type(lib).__qualname__} proxy of zlib on wasmtime: open>"
    lib.close()
    assert repr(lib).endswith("zlib on wasmtime: closed>")


def test_a_callback_handle_names_its_function_type_and_sandbox(hostile_lib: Library) -> None:
    with hostile_lib.sandbox("wasmtime") as sb:
        def double(v: Any) -> int:
            return 2 * int(v.unverified_safe_because("a test"))
        cb = sb.callback(double, HOSTILE_CB)
        assert plain(sb.hostile_call(cb, 21)) == 42
        assert repr(cb) == f"<CallbackHandle double int(int) in hostile: 0x{cb.address:x}>"
        cb.unregister()
        assert repr(cb) == "<CallbackHandle double int(int) in hostile: unregistered>"


# -- exports and pickling -----------------------------------------------------------------


@pytest.mark.quick
def test_the_pool_and_the_errors_are_exported() -> None:
    from sandboxlib.runtime.pool import SandboxPool as Pool
    assert SandboxPool is Pool
    for name in ("SandboxPool", "LimitExceeded", "ClosedError", "SandboxlibWarning",
                 "GeneratorWarning"):
        assert name in sandboxlib.__all__ and getattr(sandboxlib, name) is not None
    assert issubclass(sandboxlib.GeneratorWarning, sandboxlib.SandboxlibWarning)
    assert issubclass(sandboxlib.SandboxlibWarning, UserWarning)  # shown unless filtered


def test_pickling_a_sandbox_or_a_proxy_points_to_opener(sample_lib: Library) -> None:
    from sandboxlib.wrapped.zlib import _package
    with sample_lib.sandbox("wasmtime") as sb, _package.sandbox("wasmtime") as lib:
        for live in (sb, lib):
            with pytest.raises(TypeError, match=r"sandboxlib\.workers\.Opener"):
                pickle.dumps(live)


# -- logging ------------------------------------------------------------------------------


def _a_slow_step() -> None:
    from sandboxlib.progress import progress
    with progress("a slow step", quiet_below=0.0):
        time.sleep(0.15)


@pytest.mark.quick
def test_library_use_prints_nothing_and_logs_progress(capfd: pytest.CaptureFixture[str],
                                                      caplog: pytest.LogCaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOXLIB_QUIET", raising=False)
    assert any(isinstance(h, logging.NullHandler)
               for h in logging.getLogger("sandboxlib").handlers)
    _a_slow_step()  # no logging configured: not a line anywhere
    assert capfd.readouterr() == ("", "")
    with caplog.at_level(logging.INFO, logger="sandboxlib"):
        _a_slow_step()
    messages = [r.getMessage() for r in caplog.records if r.name == "sandboxlib"]
    assert messages[0] == "a slow step ..." and messages[-1].startswith("a slow step: done in")
    assert capfd.readouterr().err == ""


@pytest.mark.quick
def test_the_command_line_shows_progress_on_stderr_unless_quiet(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from sandboxlib import cli

    monkeypatch.delenv("SANDBOXLIB_QUIET", raising=False)

    def slow(args: object) -> int:
        _a_slow_step()
        return 0
    monkeypatch.setattr(cli, "_inspect", slow)
    assert cli.main(["inspect", "x.wasm"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "sandboxlib: a slow step ..." and err[-1].startswith(
        "sandboxlib: a slow step: done in")
    try:
        assert cli.main(["inspect", "--quiet", "x.wasm"]) == 0
        assert capsys.readouterr().err == ""
    finally:
        set_quiet(False)
    assert logging.getLogger("sandboxlib").level == logging.NOTSET  # as it was
    _a_slow_step()  # the command's handler is gone with it
    assert capsys.readouterr().err == ""


# -- metadata -----------------------------------------------------------------------------


@pytest.mark.quick
def test_the_distribution_states_its_licence_as_spdx_with_the_text_beside_it() -> None:
    root = Path(__file__).resolve().parent.parent
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (root / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    classifiers = project["classifiers"]
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: not both
    assert {"Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.13",
            "Typing :: Typed", "Topic :: Security"} <= set(classifiers)
    assert "setuptools>=77" in pyproject["build-system"]["requires"]  # PEP 639 support


def test_mypy_outside_the_repository_finds_the_installed_package(tmp_path: Path) -> None:
    """However it was installed (`make`'s editable install, a wheel), a user's code in
    another directory type-checks against sandboxlib: mypy finds the package and its
    py.typed (setuptools' default editable mode hides it behind an import hook)."""
    user = tmp_path / "user.py"
    user.write_text("import sandboxlib\n\nlimits: sandboxlib.Limits = sandboxlib.Limits()\n"
                    "wrong: int = sandboxlib.Limits()\n")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "cache"), str(user)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert "user.py:4: error: Incompatible types in assignment" in proc.stdout, proc.stdout
    assert proc.stdout.count("error:") == 1, proc.stdout
