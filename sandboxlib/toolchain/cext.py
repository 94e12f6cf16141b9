"""CPython extensions compiled from C with cffi (API mode), cached by content.

Used by the native backend (the library's own sources) and the wasm2c backend
(the translated module); both get the same caching, progress and error capture.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import cffi

from ..errors import BuildError
from ..progress import progress
from .cache import content_key, discard, entry_dir, publish, scratch_dir

_loaded: dict[Path, ModuleType] = {}


@contextmanager
def captured_output() -> Iterator[list[str]]:
    """Collect what this process and its children write to fds 1 and 2."""
    sink: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield sink
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            sink.append(tmp.read().decode(errors="replace"))


def build_extension(kind: str, name: str, cdef: str, prelude: str, sources: Sequence[Path],
                    include_dirs: Iterable[Path] = (), defines: Iterable[str] = (),
                    cflags: Iterable[str] = (), extra_key: Iterable[str] = ()) -> ModuleType:
    """Compile and import an extension exposing ``cdef`` from ``prelude`` + ``sources``."""
    sources = [Path(s).resolve() for s in sources]
    include_dirs = [Path(d).resolve() for d in include_dirs]
    defines, cflags = list(defines), list(cflags)
    settings = [f"cffi {version('cffi')}", sys.version, cdef, prelude, *defines, *cflags,
                *extra_key]
    key = content_key(kind, sources, include_dirs, settings)
    modname = f"_sandboxlib_{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}_{key[:12]}"
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    final = entry_dir(kind, key)
    path = final / f"{modname}{suffix}"
    if not path.is_file():
        discard(final)  # an incomplete entry (interrupted build) is rebuilt
        _compile(kind, name, modname, cdef, prelude, sources, include_dirs, defines, cflags,
                 final, suffix)
    return _import(modname, path)


def _compile(kind: str, name: str, modname: str, cdef: str, prelude: str,
             sources: list[Path], include_dirs: list[Path], defines: list[str],
             cflags: list[str], final: Path, suffix: str) -> None:
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    macros = [(d.split("=", 1)[0], d.split("=", 1)[1] if "=" in d else None) for d in defines]
    ffi.set_source(modname, prelude, sources=[str(s) for s in sources],
                   include_dirs=[str(d) for d in include_dirs], define_macros=macros,
                   extra_compile_args=["-O2", *cflags])
    tmp = scratch_dir(kind)
    try:
        with progress(f"compiling {name} for the {kind} backend ({len(sources)} file(s))"):
            with captured_output() as out:
                try:
                    built = ffi.compile(tmpdir=str(tmp), verbose=False)
                except Exception as exc:  # cffi raises VerificationError / distutils errors
                    failure: Exception | None = exc
                else:
                    failure = None
        if failure is not None:
            raise BuildError(f"{name}: building the {kind} extension failed: {failure}",
                             "".join(out))
        (tmp / "out").mkdir()
        os.replace(built, tmp / "out" / f"{modname}{suffix}")
        publish(tmp / "out", final)
    finally:
        discard(tmp)


def _import(modname: str, path: Path) -> ModuleType:
    if path in _loaded:
        return _loaded[path]
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot load extension {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _loaded[path] = module
    return module
