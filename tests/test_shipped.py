"""Which package ``load_generated`` imports: the one shipped beside the spec (as a wheel
ships the drop-ins') when its recorded key is the spec's key now, else the cached one.
Real packages, generated from tests/golden/tiny.c (compiled once, then cached)."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest

from libs import ROOT

from sandboxlib import Limits
from sandboxlib.backends.wasm2c.build import INDEX, PRECOMPILED
from sandboxlib.codegen.packages import SHIPPED, load_generated, ship, shipped_key
from sandboxlib.precompile import SHIPPED_METERS, ship_package_precompiled
from sandboxlib.toolchain.guard import NO_COMPILE_ENV, CompileDisabled
from sandboxlib.toolchain.preinit import SHIPPED_IMAGE
from sandboxlib.codegen.spec import licence_files
from sandboxlib.toolchain.cache import CACHE_ENV, cache_root
from sandboxlib.toolchain.cpu import BASELINE, CPU_ENV, machine_level, shipped_levels
from sandboxlib.toolchain.fetch import MIRROR_ENV

GOLDEN = Path(__file__).resolve().parent / "golden"
# tiny.h's renamed parameter and skipped variadic function (test_codegen_golden checks
# that wrap warns them)
pytestmark = pytest.mark.filterwarnings("ignore::sandboxlib.GeneratorWarning")


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    """A spec beside its own C (nothing to fetch); its text names the test's folder, so
    that no two tests share a package (a process imports a key's package once)."""
    for name in ("tiny.h", "tiny.c"):
        shutil.copyfile(GOLDEN / name, tmp_path / name)
    path = tmp_path / "tiny.toml"
    path.write_text(f'# {tmp_path}\n[library]\nname = "tiny"\nheaders = ["tiny.h"]\n'
                    'sources = ["tiny.c"]\n')
    return path


def loaded_from(spec: Path) -> Path:
    """The folder of the package ``load_generated`` imports for ``spec``, after checking
    that it works."""
    module = load_generated(spec)
    with module.sandbox("wasmtime") as lib:
        assert lib.tiny_add(2, 3).verify_in({5}) == 5
    assert module.__file__ is not None
    return Path(module.__file__).parent


def test_the_shipped_package_is_used_without_the_cache(spec: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = ship(spec)
    assert shipped == spec.parent / SHIPPED / "tiny"
    assert (shipped.parent / "tiny.key").read_text().strip() == shipped_key(spec)
    assert not list(shipped.rglob("__pycache__"))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "empty-cache"))
    assert loaded_from(spec) == shipped
    assert not (cache_root() / "generated").exists()  # nothing generated, nothing compiled
    assert not (cache_root() / "wasm").exists()


def test_a_precompiled_package_runs_on_wasm2c_without_compiling(
        spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wheel's drop-ins: the pre-initialized module and the wasm2c extension of each
    shipped meter and processor level are loaded with an empty cache and compiling
    disabled (the level the machine runs best); another meter (fuel) would compile."""
    shipped = ship(spec)
    ship_package_precompiled(shipped)
    assert (shipped / SHIPPED_IMAGE).is_file()
    assert len(list((shipped / PRECOMPILED).glob("*.so"))) == \
        len(SHIPPED_METERS) * len(shipped_levels())
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "empty-cache"))
    monkeypatch.setenv(NO_COMPILE_ENV, "1")
    module = load_generated(spec)
    for limits in (Limits(), Limits(timeout=5.0)):
        with module.sandbox("wasm2c", limits=limits) as lib:
            assert lib.tiny_add(2, 3).verify_in({5}) == 5
    assert levels_loaded(spec) == [machine_level()]
    with pytest.raises(CompileDisabled):
        module.sandbox("wasm2c", limits=Limits(fuel=10**9))
    assert not (tmp_path / "empty-cache").exists()


LEVELS_LOADED = """
import json, sys
from pathlib import Path
from sandboxlib.backends.wasm2c.build import INDEX, PRECOMPILED
from sandboxlib.codegen.packages import load_generated
spec = Path(sys.argv[1])
module = load_generated(spec)
with module.sandbox("wasm2c") as lib:
    assert lib.tiny_add(2, 3).verify_in({5}) == 5
index = Path(module.__file__).parent / PRECOMPILED / INDEX
print(json.dumps(sorted(e["cpu"] for e in json.loads(index.read_text()).values()
                        if e["module"] in sys.modules)))
"""


def levels_loaded(spec: Path) -> list[str]:
    """The processor levels of the shipped extensions a new process (this one's
    environment) loads for a wasm2c sandbox of ``spec``'s package."""
    out = subprocess.run([sys.executable, "-c", LEVELS_LOADED, str(spec)], check=True,
                         capture_output=True, text=True).stdout
    return list(json.loads(out))


@pytest.mark.skipif(len(shipped_levels()) < 2 or machine_level() == BASELINE,
                    reason="the machine runs only the baseline")
@pytest.mark.parametrize("only_baseline", ["chosen", "shipped"])
def test_the_baseline_extension_serves_when_chosen_or_only_it_is_shipped(
        spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, only_baseline: str) -> None:
    """$SANDBOXLIB_CPU=baseline loads the baseline's extension on a machine that runs
    more; so does a package that ships only it (rather than compiling)."""
    shipped = ship(spec)
    ship_package_precompiled(shipped)
    if only_baseline == "chosen":
        monkeypatch.setenv(CPU_ENV, BASELINE)
    else:
        index = json.loads((shipped / PRECOMPILED / INDEX).read_text())
        for entry in index.values():
            if entry["cpu"] != BASELINE:
                (shipped / PRECOMPILED / entry["file"]).unlink()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "empty-cache"))
    monkeypatch.setenv(NO_COMPILE_ENV, "1")
    assert levels_loaded(spec) == [BASELINE]


# what is edited after shipping: file, text appended
EDITS = {"spec": ("tiny.toml", "# edited\n"), "source": ("tiny.c", "/* edited */\n"),
         "header": ("tiny.h", "/* edited */\n")}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_input_falls_back_to_the_cache(spec: Path, edit: str) -> None:
    shipped = ship(spec)
    key = shipped_key(spec)
    name, text = EDITS[edit]
    changed = spec.with_name(name)
    changed.write_text(changed.read_text() + text)
    assert shipped_key(spec) != key
    assert loaded_from(spec).is_relative_to(cache_root() / "generated")
    assert shipped.is_dir()


def test_a_wrong_recorded_key_falls_back_to_the_cache(spec: Path) -> None:
    shipped = ship(spec)
    shipped.with_name("tiny.key").write_text("0" * 32 + "\n")
    assert loaded_from(spec).is_relative_to(cache_root() / "generated")


def test_without_a_shipped_package_the_cache_is_used(spec: Path) -> None:
    assert loaded_from(spec).is_relative_to(cache_root() / "generated")
    assert not (spec.parent / SHIPPED).exists()


SPECS = ["zlib/zlib", "expat/expat", "lz4/lz4", "image/png", "image/gif", "image/jpeg",
         "image/webp"]


@pytest.mark.quick
@pytest.mark.parametrize("name", SPECS)
def test_a_drop_ins_key_needs_no_network(name: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The pinned sources are not fetched: an empty cache and an archive that does not
    exist leave the key computable, and the cache empty."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "empty-cache"))
    monkeypatch.setenv(MIRROR_ENV, (tmp_path / "no-archive").as_uri())
    spec = ROOT / "sandboxlib" / "wrapped" / f"{name}.toml"
    assert len(shipped_key(spec)) == 32
    assert not (cache_root() / "sources").exists()


@pytest.mark.quick
@pytest.mark.parametrize("name", SPECS)
def test_a_drop_ins_shipped_package_carries_the_licences_of_its_sources(name: str) -> None:
    found = licence_files(ROOT / "sandboxlib" / "wrapped" / f"{name}.toml")
    assert found
    if name == "image/png":  # libpng's, and zlib's ([[with]]) under its tarball's name
        assert {"LICENSE", "zlib-LICENSE"} <= set(found)
    for file in found.values():
        text = file.read_text(errors="replace").lower()
        assert "copyright" in text or "license" in text, file


DATA_FOLDERS = ["wrapped/*/shim", "wrapped/*/config", "toolchain/x86_intrinsics",
                "toolchain/sjlj", "backends/wasm2c/csrc"]


def _package_data() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["tool"]["setuptools"]["package-data"]["sandboxlib"])


def _covered(path: PurePosixPath, patterns: list[str]) -> bool:
    """Whether setuptools' package-data glob (``*`` within one folder) takes ``path``."""
    return any(len(p.parts) == len(path.parts)
               and all(fnmatch.fnmatchcase(a, b) for a, b in zip(path.parts, p.parts))
               for p in map(PurePosixPath, patterns))


@pytest.mark.quick
def test_every_file_the_builds_read_is_in_the_wheel() -> None:
    """The C, headers and specs the drop-ins and the toolchain build from (a shim's
    subfolder too) are package data: a wheel without one fails to build its drop-ins."""
    package = ROOT / "sandboxlib"
    files = sorted({f for folder in DATA_FOLDERS for d in package.glob(folder)
                    for f in d.rglob("*") if f.is_file() and f.suffix in (".c", ".h")}
                   | set(package.glob("wrapped/*/*.toml")))
    assert len(files) > 50
    patterns = _package_data()
    missing = [str(f.relative_to(package)) for f in files
               if not _covered(PurePosixPath(f.relative_to(package).as_posix()), patterns)]
    assert not missing, f"not package data (pyproject.toml): {missing}"
