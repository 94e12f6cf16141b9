"""CPython extensions compiled from C with cffi (API mode), cached by content.

Used by the native backend (the library's own sources) and the wasm2c backend
(the translated module); both get the same caching, progress and error capture.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import shlex
import shutil
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

from ..errors import BuildError
from ..once import Memo
from ..progress import progress
from .bounded import run_bounded
from .cache import build_entry, content_key, discard
from .cpu import BASELINE
from .extras import require
from .guard import refuse_if_no_compile
from .zig import compiler_version, zig_cc, zig_env

_loaded: Memo[Path, ModuleType] = Memo()

# cffi's compile changes the working directory and the environment of the process
# while it runs (and the compiler writes to its stdout and stderr): it runs in a child
# process, where none of that reaches this process's other threads.
# A source with flags of its own is compiled first, by the compiler distutils chooses
# and configures for cffi, with the same flags and these after them, and linked in.
_COMPILE = """
import json, sys, cffi, setuptools
from distutils.ccompiler import new_compiler
from distutils.sysconfig import customize_compiler
job = json.load(sys.stdin)
macros = [tuple(m) for m in job["macros"]]
cc = new_compiler()
customize_compiler(cc)
objects = [obj for source, flags in job["tuned"]
           for obj in cc.compile([source], output_dir=job["tmpdir"], macros=macros,
                                 include_dirs=job["include_dirs"],
                                 extra_postargs=job["cflags"] + flags)]
ffi = cffi.FFI()
ffi.cdef(job["cdef"])
ffi.set_source(job["module"], job["prelude"], sources=job["sources"],
               include_dirs=job["include_dirs"], extra_compile_args=job["cflags"],
               define_macros=macros, extra_objects=objects)
ffi.compile(tmpdir=job["tmpdir"], verbose=False)
"""


def build_extension(kind: str, name: str, cdef: str, prelude: str, sources: Sequence[Path],
                    include_dirs: Iterable[Path] = (), defines: Iterable[str] = (),
                    cflags: Iterable[str] = (), extra_key: Iterable[str] = (),
                    zig: bool = False, cpu: str = BASELINE,
                    tuned: Sequence[tuple[Path, Sequence[str]]] = ()) -> ModuleType:
    """Compile (once: see ``build_entry``) and import (once per process) an extension
    exposing ``cdef`` from ``prelude`` + ``sources`` + the ``tuned`` sources (each
    compiled with its flags after ``cflags``): with the host's C compiler, or with the
    clang that zig ships when ``zig`` (no C compiler needed on the machine), for the
    processor level ``cpu`` (``toolchain.cpu``)."""
    refuse_if_no_compile(f"compiling {name} for the {kind} backend")
    sources = [Path(s).resolve() for s in sources]
    tuned = [(Path(s).resolve(), list(flags)) for s, flags in tuned]
    include_dirs = [Path(d).resolve() for d in include_dirs]
    defines, cflags = list(defines), list(cflags)
    settings = [f"cffi {version('cffi')}", sys.version, cdef, prelude, *defines, *cflags,
                *extra_key, f"{compiler_version()} -mcpu={cpu}" if zig else "host C compiler",
                *(f"{s.name}: {shlex.join(flags)}" for s, flags in tuned)]
    key = content_key(kind, [*sources, *(s for s, _ in tuned)], include_dirs, settings)
    modname = f"_sandboxlib_{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}_{key[:12]}"
    filename = modname + importlib.machinery.EXTENSION_SUFFIXES[0]
    job = {"cdef": cdef, "module": modname, "prelude": prelude,
           "sources": [str(s) for s in sources], "include_dirs": [str(d) for d in include_dirs],
           "macros": [d.split("=", 1) if "=" in d else [d, None] for d in defines],
           "cflags": ["-O2", *cflags], "tuned": [(str(s), flags) for s, flags in tuned]}

    def build(tmp: Path) -> None:
        if not zig:
            require_c_compiler(f"{name} for the {kind} backend")
        require("setuptools", f"compiling {name} for the {kind} backend (cffi builds with it)")
        work = tmp / "work"
        label = (f"compiling {name} for the {kind} backend "
                 f"({len(sources) + len(tuned)} file(s))")
        first = zig and not _zig_runtime_marker(cpu).exists()
        if first:
            label += ("; the first build with zig on this machine also builds zig's own "
                      "runtime for it, about 90 s, once")
        with progress(label):
            proc = run_bounded([sys.executable, "-P", "-c", _COMPILE],
                               f"{name}: building the {kind} extension",
                               input=json.dumps({**job, "tmpdir": str(work)}),
                               env=_zig_cc_env(cpu) if zig else None, memory_bounded=zig)
        if proc.returncode != 0 or not (work / filename).is_file():
            failure = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            raise BuildError(f"{name}: building the {kind} extension failed: {failure}",
                             proc.stderr + proc.stdout)
        os.replace(work / filename, tmp / filename)
        discard(work)
        if first:
            _zig_runtime_marker(cpu).touch()

    path = build_entry(kind, key, filename, build) / filename
    return load_extension(path, modname)


def load_extension(path: Path, modname: str) -> ModuleType:
    """Import the extension at ``path`` (built as ``modname``), once per process."""
    return _loaded.get(path, lambda: _import(modname, path))


def _zig_runtime_marker(cpu: str) -> Path:
    """Present once zig has built an extension for ``cpu`` (and so its runtime for it)."""
    folder = Path(zig_env()["ZIG_GLOBAL_CACHE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    tag = re.sub(r"[^A-Za-z0-9.]+", "-", compiler_version())
    return folder / f".sandboxlib-native-runtime-{tag}-{cpu}"


def _zig_cc_env(cpu: str) -> dict[str, str]:
    """The environment in which cffi compiles and links with zig's clang, for the level
    ``cpu`` of the machine's architecture (part of the key: a cache may serve others)."""
    cc = shlex.join(zig_cc())
    return {**zig_env(), "CC": cc, "LDSHARED": f"{cc} -shared", "CFLAGS": f"-mcpu={cpu}"}


def c_compiler() -> tuple[str, str]:
    """The C compiler cffi runs (as distutils chooses it: $CC if set, else the one
    Python was built with), and where that choice comes from."""
    if "CC" in os.environ:
        command, origin = os.environ["CC"], "$CC"
    else:
        command, origin = sysconfig.get_config_var("CC") or "cc", "Python's build configuration"
    words = shlex.split(command)
    return (words[0] if words else ""), origin


def require_c_compiler(what: str) -> None:
    """Raise BuildError naming the missing compiler if the C compiler for ``what`` is
    not there (before cffi fails with a traceback)."""
    compiler, origin = c_compiler()
    if not compiler or shutil.which(compiler) is None:
        named = repr(compiler) if compiler else "none (it is empty)"
        raise BuildError(f"compiling {what} needs a C compiler, and the one named by {origin}, "
                         f"{named}, is not found. Install one (gcc or clang) or set $CC to "
                         "one; the wasmtime backend needs none.")


def _import(modname: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot load extension {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
