"""Per-library spec files (TOML): sources, pinned fetch, headers, annotations.

```toml
[library]
name = "zlib"
headers = ["zlib.h"]            # relative to the source root
sources = ["adler32.c", "crc32.c"]
include = ["."]
local_include = ["config"]      # relative to the spec file: our own headers (a config.h)
local_headers = ["shim/shim.h"] # relative to the spec file: our own API, proxied too
local_sources = ["shim/shim.c"] # relative to the spec file: our own C, built in
defines = ["HAVE_UNISTD_H"]
wasm_cflags = ["-mno-simd128"]  # for the wasm build only (cflags: every build)
wasm_x86_intrinsics = false     # the wasm build compiles x86 SSE intrinsics (<emmintrin.h>
                                # ...) to wasm SIMD and defines __SSE2__ ...; by default where
                                # the C includes such a header (false: its scalar code)
exports = ["crc32", "adler32"]  # optional; default: every function the headers declare

[source]                        # optional; without it paths are relative to the spec
pin = "zlib"                    # a pin of sandboxlib.toolchain.pins
subdir = "."                    # the source root inside the fetched tree
                                # (test-only specs may name a PyPI sdist instead:
                                # pypi = "name==version", sha256 and size)

[[with]]                        # optional: another pinned library built into the same
pin = "zlib"                    # module (libpng's zlib); pin (or package, file, sha256)
sources = ["adler32.c"]         # and subdir as in [source]; its paths relative to its
include = ["."]                 # root, its include folders searched after [library]'s

[functions.gzprintf]
skip = true                     # do not proxy this function
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BuildError
from .annotations import Annotation, parse_annotation
from ..toolchain.pins import PINS, SourcePin
from ..toolchain.zig import x86_intrinsics_licence
from .generate import WrapRequest, x86_intrinsics_for

_LIBRARY_KEYS = {"name", "headers", "sources", "include", "local_include", "local_headers",
                 "local_sources", "defines", "cflags", "wasm_cflags", "wasm_x86_intrinsics",
                 "exports", "stack_size"}
_WITH_KEYS = {"pin", "package", "file", "pypi", "size", "sha256", "subdir", "sources",
              "include"}


@dataclass
class Spec:
    path: Path
    request: WrapRequest


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BuildError(f"spec file {path} does not exist")
    text = path.read_text()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = found.group(1) if found else str(text.count("\n") + 1)
        raise BuildError(f"{path}:{line}: {exc}") from None


def _annotations(data: dict[str, Any], path: Path) -> dict[str, Annotation]:
    functions = data.get("functions", {})
    if not isinstance(functions, dict):
        raise BuildError(f"{path}: [functions] must be a table")
    return {name: parse_annotation(name, table, str(path)) for name, table in functions.items()}


def load_annotations(path: Path) -> dict[str, Annotation]:
    """Only the function annotations of a spec (for ``wrap --spec``)."""
    return _annotations(_read(path), path)


def load_spec(path: Path) -> Spec:
    """Read and check a spec (fetching its pinned sources); errors name the file, and
    the line for TOML syntax errors."""
    data = _read(path)
    lib = _library(data, path)
    root = _source_root(data.get("source"), path)

    def paths(key: str) -> list[Path]:
        return [root / p for p in _strings(lib, key, path)]

    def local(key: str) -> list[Path]:
        return _local(lib, key, path)

    def bundled(key: str) -> list[Path]:
        return [_source_root(w, path) / p for w in _withs(data, path)
                for p in _strings(w, key, path)]

    annotations = _annotations(data, path)
    exports = _strings(lib, "exports", path) if "exports" in lib else None
    req = WrapRequest(lib["name"], [*paths("headers"), *local("local_headers")],
                      [*paths("sources"), *local("local_sources"), *bundled("sources")],
                      [*paths("include"), *local("local_include"), *bundled("include")],
                      _strings(lib, "defines", path), _strings(lib, "cflags", path), exports,
                      int(lib.get("stack_size", 128 << 10)), annotations, str(path),
                      _strings(lib, "wasm_cflags", path),
                      _flag(lib, "wasm_x86_intrinsics", path))
    return Spec(path, req)


@dataclass(frozen=True)
class SpecInputs:
    """What a spec's package is built from, known without fetching or compiling: the
    spec's own C files (its ``local_*`` ones; all of them without a ``[source]``) and
    the identity of the pinned tarball (the rest)."""

    name: str
    files: list[Path]         # headers and sources beside the spec
    include_dirs: list[Path]  # include directories beside the spec
    tarball: str              # "package filename version sha256" of each tarball ("; "
                              # between [source]'s and each [[with]]'s), "" without any


def spec_inputs(path: Path) -> SpecInputs:
    """The inputs of the spec at ``path``, read offline (nothing is fetched)."""
    data = _read(path)
    lib = _library(data, path)
    source = data.get("source")
    prefixes = ("local_",) if source is not None else ("local_", "")
    files = [f for p in prefixes for key in ("headers", "sources")
             for f in _local(lib, p + key, path)]
    dirs = [d for p in prefixes for d in _local(lib, p + "include", path)]
    tarballs = [_tarball(t, path) for t in [source, *_withs(data, path)] if t is not None]
    return SpecInputs(lib["name"], files, dirs, "; ".join(tarballs))


def _library(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The checked ``[library]`` table (known keys, a string name)."""
    lib = _table(data, "library", path)
    for key in lib:
        if key not in _LIBRARY_KEYS:
            raise BuildError(f"{path}: [library] has unknown key {key!r}")
    if not isinstance(lib.get("name"), str):
        raise BuildError(f"{path}: [library] name must be a string")
    return lib


def _withs(data: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """The checked ``[[with]]`` tables (known keys; each names its tarball)."""
    withs = data.get("with", [])
    if not isinstance(withs, list) or not all(isinstance(w, dict) for w in withs):
        raise BuildError(f"{path}: with must be an array of tables ([[with]])")
    for table in withs:
        unknown = set(table) - _WITH_KEYS
        if unknown:
            raise BuildError(f"{path}: [[with]] has unknown key {sorted(unknown)[0]!r}")
        _pin(table, path)
    return withs


def _local(lib: dict[str, Any], key: str, path: Path) -> list[Path]:
    """The paths under ``key``, relative to the spec's folder."""
    return [path.parent.resolve() / p for p in _strings(lib, key, path)]


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise BuildError(f"{path}: a [{key}] table is required")
    return value


def _strings(table: dict[str, Any], key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BuildError(f"{path}: {key} must be a list of strings")
    return value


def _flag(table: dict[str, Any], key: str, path: Path) -> bool | None:
    """``key``'s value, true or false; None where the spec does not say."""
    value = table.get(key)
    if value is not None and not isinstance(value, bool):
        raise BuildError(f"{path}: {key} must be true or false")
    return value


def _source_root(source: Any, path: Path) -> Path:
    """The folder ``source`` (a ``[source]`` or ``[[with]]`` table) roots paths at."""
    if source is None:
        return path.parent.resolve()
    subdir = source.get("subdir", ".") if isinstance(source, dict) else "."
    if not isinstance(subdir, str):
        raise BuildError(f"{path}: [source] subdir must be a string")
    return _fetched(source, path) / subdir


def _fetched(source: Any, path: Path) -> Path:
    """The unpacked tarball ``[source]`` names (fetched if not cached)."""
    from ..toolchain.fetch import fetch_debian_source, fetch_pin, fetch_pypi_sdist
    pin = _pin(source, path)
    if pin is not None:
        return fetch_pin(pin)
    if "pypi" in source:
        return fetch_pypi_sdist(source["pypi"], source["sha256"], source["size"])
    return fetch_debian_source(source["package"], source["file"], source["sha256"])


LICENCE_NAMES = ("LICENSE*", "LICENCE*", "COPYING*")


def licence_files(path: Path) -> dict[str, Path]:
    """The licence files of the third-party sources the spec at ``path`` builds from
    (from its source folder up to the tarball's top; SIMDe's where x86 intrinsics compile),
    by a name to ship them under."""
    data = _read(path)
    found: dict[str, Path] = {}
    if x86_intrinsics_for(load_spec(path).request):
        found["SIMDe-COPYING"] = x86_intrinsics_licence()
    source = data.get("source")
    if source is not None:
        found.update(_licences(source, path, ""))
    for table in _withs(data, path):  # named after their tarball: both may have a LICENSE
        found.update(_licences(table, path, f"{_tarball(table, path).split()[0]}-"))
    return found


def _licences(source: dict[str, Any], path: Path, prefix: str) -> dict[str, Path]:
    """The licence files of one tarball, from its source folder up to its top."""
    found: dict[str, Path] = {}
    top, root = _fetched(source, path), _source_root(source, path).resolve()
    for folder in [root, *root.parents]:
        for pattern in LICENCE_NAMES:
            for file in sorted(folder.glob(pattern)):
                if file.is_file():
                    found[prefix + "-".join(file.relative_to(top).parts)] = file
        if folder == top.resolve():
            break
    return found


def _pin(source: Any, path: Path) -> SourcePin | None:
    """The pin ``[source]`` names, or None if it names a tarball itself; a table that
    does neither is an error."""
    if not isinstance(source, dict):
        raise BuildError(f"{path}: [source] must be a table")
    if "pin" in source:
        pin = PINS.get(source["pin"])
        if pin is None:
            raise BuildError(f"{path}: [source] pin {source['pin']!r} is unknown; known: "
                             f"{', '.join(sorted(PINS))}")
        return pin
    if "pypi" in source:
        if not (isinstance(source["pypi"], str) and isinstance(source.get("sha256"), str)
                and isinstance(source.get("size"), int)):
            raise BuildError(f"{path}: [source] pypi needs a string, sha256 and size")
        return None
    if not {"package", "file", "sha256"} <= set(source):
        raise BuildError(f"{path}: [source] needs pin = NAME; or package, file and sha256; "
                         "or pypi, sha256 and size")
    return None


def _tarball(source: Any, path: Path) -> str:
    """The identity of the tarball ``[source]`` fetches ("" without one)."""
    if source is None:
        return ""
    pin = _pin(source, path)
    if pin is None and "pypi" in source:
        return f"pypi {source['pypi']} - {source['sha256']}"
    if pin is None:
        return f"{source['package']} {source['file']} - {source['sha256']}"
    return f"{pin.package} {pin.filename} {pin.version} {pin.sha256}"
