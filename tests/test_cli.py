"""The command line as a user meets it (issue 15, item 5): one-line errors with an exit
status (2 bad input, 1 an OS error or a missing optional dependency, 130 Ctrl-C),
checked before the work starts; ``--quiet``; package names that cannot be imported or
would hide another module; where the cache lives."""

from __future__ import annotations

import logging
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import platformdirs
import pytest

from libs import C_SRC, sigint_as_python_starts_it

from sandboxlib.cli import build_parser
from sandboxlib.progress import QUIET_ENV, progress, set_quiet
from sandboxlib.toolchain.cache import CACHE_ENV, cache_root
from sandboxlib.toolchain.cpu import BASELINE, machine_level, shipped_levels
from sandboxlib.toolchain.guard import NO_COMPILE_ENV

SAMPLE = C_SRC / "sample"
CLI = [sys.executable, "-m", "sandboxlib"]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                          cwd=cwd, env=env, timeout=300)


def wrap_sample(name: str, cwd: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("wrap", name, "--header", str(SAMPLE / "sample.h"), "--source",
                   str(SAMPLE / "sample.c"), "--out", str(out), *extra, cwd=cwd)


def test_wrap_takes_several_headers_and_folders_after_one_flag(tmp_path: Path) -> None:
    """``--header a.h b.h`` (a shell's glob), as ``--source`` takes several (before: each
    header needed its own flag, and the second was 'unrecognized arguments')."""
    for name, body in (("one", "int one(void);"), ("two", "int two(void);")):
        (tmp_path / "inc" / name).mkdir(parents=True)
        (tmp_path / "inc" / name / f"{name}.h").write_text(body + "\n")
    (tmp_path / "both.c").write_text('#include "one.h"\n#include "two.h"\n'
                                     "int one(void) { return ONE; }\n"
                                     "int two(void) { return 2; }\n")
    proc = run_cli("wrap", "both", "--header", "inc/one/one.h", "inc/two/two.h", "--source",
                   "both.c", "--include", "inc/one", "inc/two", "--define", "ONE=1", "X=2",
                   "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote out/both/: 2 function(s)" in proc.stdout


# -- OS errors and missing dependencies: one line, status 1, before the work --------------

@pytest.mark.quick
def test_unwritable_out_fails_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    out = tmp_path / "afile" / "out"
    proc = wrap_sample("sample", tmp_path, out)
    assert (proc.returncode, proc.stderr) == (1, f"sandboxlib: error: {out}: Not a directory\n")


@pytest.mark.quick
def test_gen_into_an_unwritable_out(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    out = tmp_path / "afile" / "out"
    proc = run_cli("gen", str(tmp_path / "missing.toml"), "--out", str(out), cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (1, f"sandboxlib: error: {out}: Not a directory\n")


@pytest.mark.quick
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "empty.wasm").write_bytes(b"\0asm\x01\0\0\0")
    with open("/dev/full", "w") as full:
        proc = run_cli("inspect", "empty.wasm", cwd=tmp_path, stdout=full.fileno())
    assert (proc.returncode, proc.stderr) == (
        1, "sandboxlib: error: standard output: No space left on device\n")


@pytest.mark.quick
def test_missing_spec_file_is_bad_input(tmp_path: Path) -> None:
    proc = run_cli("gen", "missing.toml", "--out", "out", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (
        2, "sandboxlib: error: spec file missing.toml does not exist\n")


@pytest.mark.quick
def test_plot_into_a_missing_folder_fails_before_the_benchmark(tmp_path: Path) -> None:
    plot = tmp_path / "nowhere" / "ratios.png"
    proc = run_cli("bench", "--plot", str(plot), cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (
        1, f"sandboxlib: error: {plot}: No such file or directory\n")


@pytest.mark.quick
def test_plot_without_matplotlib_fails_before_the_benchmark(tmp_path: Path) -> None:
    """matplotlib hidden by a module that fails to import, as when it is not installed."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "matplotlib.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'matplotlib'\", name='matplotlib')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(hide), *filter(None, [os.environ.get("PYTHONPATH")])])}
    start = time.monotonic()
    proc = run_cli("bench", "--plot", "ratios.png", cwd=tmp_path, env=env)
    assert (proc.returncode, proc.stderr) == (
        1, "sandboxlib: error: --plot needs matplotlib, which is not installed: "
           "pip install 'sandboxlib-wasm[plot]'\n")
    assert proc.stdout == "" and time.monotonic() - start < 30


# -- Ctrl-C and --quiet ------------------------------------------------------------------

def _interrupt_bench(*options: str, wait: float | None = None) -> tuple[int, str, float]:
    """Start ``sandboxlib bench``; send SIGINT once it is measuring (after its first
    progress line, or after ``wait`` seconds); return its status, its stderr and the
    seconds until the signal."""
    start = time.monotonic()
    proc = subprocess.Popen([*CLI, *options, "bench", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_python_starts_it)
    try:
        assert proc.stderr is not None
        first = ""
        if wait is None:
            first = proc.stderr.readline()  # the bench's first metric: measuring has begun
            assert first.startswith("bench: "), first
        else:
            time.sleep(wait)
        waited = time.monotonic() - start
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, first + rest, waited


def test_ctrl_c_ends_with_130_and_one_line_and_quiet_silences_progress() -> None:
    status, stderr, first_line = _interrupt_bench()
    assert status == 130, stderr
    assert "Traceback" not in stderr and stderr.endswith("\nsandboxlib: interrupted\n")
    assert [line for line in stderr.splitlines() if not line.startswith("bench: ")] == [
        "sandboxlib: interrupted"]
    # --quiet: interrupted well after the point where the first progress line came above
    status, stderr, _ = _interrupt_bench("--quiet", wait=first_line + 2.0)
    assert (status, stderr) == (130, "sandboxlib: interrupted\n")


@pytest.mark.parametrize("wait", [0.0, 0.02, 0.05, 0.1, 0.2])
def test_ctrl_c_while_starting_ends_quietly_too(wait: float) -> None:
    """Ctrl-C while the command is still importing: once its entry runs it ends with
    status 130 and one line. Before that -- Python's start-up, and the few lines of
    sandboxlib/__init__.py and __main__.py that import nothing -- a traceback may still
    come, but never from any other module of ours (those are imported under the guard)."""
    status, stderr, _ = _interrupt_bench(wait=wait)
    frames = [line for line in stderr.splitlines() if line.lstrip().startswith("File ")]
    # (site's start-up runs setuptools' editable-install finder, named after the
    # distribution but not ours: only files inside the package count)
    ours = [f for f in frames if re.search(r"[/\\]sandboxlib[/\\]", f) and not re.search(
        r"sandboxlib[/\\]__(init|main)__\.py", f)]
    assert not ours, stderr
    if not frames:
        assert status in (130, -signal.SIGINT), stderr


class _Raising:
    """A class attribute whose ``__set_name__`` raises ``error`` as its class is made."""

    def __init__(self, error: type[BaseException]) -> None:
        self.error = error

    def __set_name__(self, owner: type, name: str) -> None:
        raise self.error


class _CliRaising(types.ModuleType):
    """``sandboxlib.cli`` making a class whose ``__set_name__`` raises ``error``: while
    it is imported, or in its ``main()`` (Python 3.11 wraps the error in a RuntimeError,
    as it did for Ctrl-C during the standard library's ``ipaddress``:
    ``IPv4Interface.hostmask``)."""

    def __init__(self, error: type[BaseException], importing: bool) -> None:
        super().__init__("sandboxlib.cli")
        self.error, self.importing = error, importing

    def __getattr__(self, name: str) -> object:
        def main() -> int:
            type("Made", (), {"attribute": _Raising(self.error)})
            return 0

        return main() if self.importing else main


@pytest.mark.quick
@pytest.mark.parametrize("importing", [True, False])
def test_ctrl_c_wrapped_by_python_ends_quietly(
        importing: bool, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import sandboxlib.__main__ as entry
    monkeypatch.setitem(sys.modules, "sandboxlib.cli", _CliRaising(KeyboardInterrupt, importing))
    assert entry.run() == 130
    assert capsys.readouterr().err == "sandboxlib: interrupted\n"
    # any other error is not an interrupt: it propagates
    monkeypatch.setitem(sys.modules, "sandboxlib.cli", _CliRaising(ValueError, importing))
    with pytest.raises((RuntimeError, ValueError)):
        entry.run()


@pytest.mark.quick
def test_the_package_exports_what_it_lists() -> None:
    """``sandboxlib`` imports its names on first use: each listed one is there."""
    import sandboxlib
    assert set(sandboxlib.__all__) == {*sandboxlib._FROM, "__version__"}
    assert all(getattr(sandboxlib, name) is not None for name in sandboxlib.__all__)


@pytest.mark.quick
def test_quiet_before_or_after_the_command() -> None:
    parse = build_parser().parse_args
    assert parse(["--quiet", "bench"]).quiet and parse(["bench", "-q"]).quiet
    assert not parse(["bench"]).quiet


@pytest.mark.quick
def test_quiet_is_one_setting_for_progress(caplog: pytest.LogCaptureFixture,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def shown() -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="sandboxlib"):
            with progress("a step", quiet_below=0.0):
                time.sleep(0.2)
        return [r.getMessage() for r in caplog.records if r.name == "sandboxlib"]

    monkeypatch.delenv(QUIET_ENV, raising=False)
    assert shown()[0] == "a step ..."
    monkeypatch.setenv(QUIET_ENV, "1")
    assert shown() == []
    monkeypatch.delenv(QUIET_ENV)
    set_quiet()
    try:
        assert shown() == []
    finally:
        set_quiet(False)


# -- package names -----------------------------------------------------------------------

@pytest.mark.quick
@pytest.mark.parametrize("name, problem", [
    ("class", "is a Python keyword"),
    ("1x", "is not a Python identifier"),
    ("zlib", "shadows the standard-library module zlib; choose another name or pass --force"),
    ("pytest", "shadows the installed module pytest (from pytest); choose another name or "
               "pass --force"),
])
def test_package_name_refused(tmp_path: Path, name: str, problem: str) -> None:
    proc = wrap_sample(name, tmp_path, tmp_path / "out")
    assert (proc.returncode, proc.stderr) == (2, f"sandboxlib: error: library name {name!r} "
                                                 f"{problem}\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.quick
def test_spec_naming_a_standard_module_is_refused_by_gen(tmp_path: Path) -> None:
    spec = tmp_path / "zlib.toml"
    spec.write_text(f'[library]\nname = "zlib"\nheaders = ["{SAMPLE / "sample.h"}"]\n'
                    f'sources = ["{SAMPLE / "sample.c"}"]\n')
    proc = run_cli("gen", str(spec), "--out", "out", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (
        2, "sandboxlib: error: library name 'zlib' shadows the standard-library module zlib; "
           "choose another name or pass --force\n")


def test_force_accepts_a_shadowing_name_with_a_warning(tmp_path: Path) -> None:
    proc = wrap_sample("zlib", tmp_path, tmp_path / "out", "--force", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ("sandboxlib: warning: library name 'zlib' shadows the "
                           "standard-library module zlib (--force)\n")
    assert (tmp_path / "out" / "zlib" / "__init__.py").is_file()


# -- the cache's location ----------------------------------------------------------------

@pytest.mark.quick
def test_cache_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == Path(platformdirs.user_cache_dir("sandboxlib"))
    if sys.platform.startswith("linux"):
        assert cache_root() == tmp_path / "xdg" / "sandboxlib"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine" and (tmp_path / "mine").is_dir()


# -- precompile: a generated package's first-use work ahead of time -----------------------

@pytest.mark.quick
def test_precompile_refuses_what_is_not_a_generated_package(tmp_path: Path) -> None:
    proc = run_cli("precompile", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "not a generated package" in proc.stderr, proc.stderr


@pytest.mark.quick
def test_precompile_into_the_cache_refuses_a_processor_level(tmp_path: Path) -> None:
    """The cache holds the level this machine loads: ``--cpu`` there is refused, not
    ignored."""
    proc = run_cli("precompile", str(tmp_path), "--cache", "--cpu", BASELINE, cwd=tmp_path)
    assert proc.returncode == 2 and "--cpu chooses the levels a package ships" in proc.stderr, \
        proc.stderr


def test_precompile_into_the_cache_then_first_use_compiles_nothing(tmp_path: Path) -> None:
    assert wrap_sample("sample", tmp_path, tmp_path / "out").returncode == 0
    package = tmp_path / "out" / "sample"
    proc = run_cli("precompile", str(package), "--backend", "wasm2c", "--meter", "2",
                   "--cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"precompiled {package}: wasm2c (meters 2; processor levels {machine_level()}) " \
        "into the build cache" in proc.stdout
    assert not (package / "_wasm2c").exists() and not (package / "module.preinit.wasm").exists()
    # first use: no process started (zig, wasm2c and cffi's compiler run in one each)
    use = ("import sys\n"
           "def refuse(event, args):\n"
           "    if event.startswith(('subprocess.', 'os.posix_spawn', 'os.exec')):\n"
           "        raise RuntimeError('started a process: ' + event)\n"
           "sys.addaudithook(refuse)\n"
           "sys.path.insert(0, 'out')\n"
           "import sample\n"
           "print(sample.sandbox('wasm2c').sample_add(2, 3).verify_in({5}))\n")
    done = subprocess.run([sys.executable, "-c", use], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "5", done.stderr


def test_precompile_builds_the_processor_levels_asked_for(tmp_path: Path) -> None:
    assert wrap_sample("sample", tmp_path, tmp_path / "out").returncode == 0
    package = tmp_path / "out" / "sample"
    proc = run_cli("--quiet", "precompile", str(package), "--cpu", BASELINE, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    index = json.loads((package / "_wasm2c" / "index.json").read_text())
    assert [entry["cpu"] for entry in index.values()] == [BASELINE]
    assert len(list((package / "_wasm2c").glob("*.so"))) == 1
    refused = run_cli("precompile", str(package), "--cpu", "pentium", cwd=tmp_path)
    assert refused.returncode == 2 and "invalid choice: 'pentium'" in refused.stderr


def test_precompile_writes_into_the_package_what_a_fresh_machine_then_loads(
        tmp_path: Path) -> None:
    """The default: the package carries its pre-initialized module and wasm2c extensions,
    so a deploy that copies it runs it with an empty cache and compiling disabled."""
    assert wrap_sample("sample", tmp_path, tmp_path / "out").returncode == 0
    package = tmp_path / "out" / "sample"
    proc = run_cli("--quiet", "precompile", str(package), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    levels = ", ".join(shipped_levels())
    assert f"precompiled {package}: wasm2c (meters 2; processor levels {levels}) into the " \
        "package" in proc.stdout
    assert (package / "module.preinit.wasm").is_file()
    # meter 2 (with or without a timeout, interruptible), for each processor level
    assert len(list((package / "_wasm2c").glob("*.so"))) == len(shipped_levels())
    deployed = tmp_path / "deploy"
    shutil.copytree(tmp_path / "out", deployed)
    use = ("import sys\n"
           "sys.path.insert(0, 'deploy')\n"
           "import sample\n"
           "from sandboxlib import Limits\n"
           "for limits in (Limits(), Limits(timeout=5.0)):\n"
           "    with sample.sandbox('wasm2c', limits=limits) as lib:\n"
           "        print(lib.sample_add(2, 3).verify_in({5}))\n")
    env = {**os.environ, CACHE_ENV: str(tmp_path / "empty-cache"), NO_COMPILE_ENV: "1"}
    done = subprocess.run([sys.executable, "-c", use], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.split() == ["5", "5"], done.stderr
    assert not (tmp_path / "empty-cache" / "wasm2c").exists()
