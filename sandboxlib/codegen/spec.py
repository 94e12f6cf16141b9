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
exports = ["crc32", "adler32"]  # optional; default: every function the headers declare

[source]                        # optional; without it paths are relative to the spec
pin = "zlib"                    # a pin of sandboxlib.toolchain.pins
subdir = "."                    # the source root inside the fetched tree

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
from .generate import WrapRequest

_LIBRARY_KEYS = {"name", "headers", "sources", "include", "local_include", "local_headers",
                 "local_sources", "defines", "cflags", "exports", "stack_size"}


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
    lib = _table(data, "library", path)
    for key in lib:
        if key not in _LIBRARY_KEYS:
            raise BuildError(f"{path}: [library] has unknown key {key!r}")
    root = _source_root(data.get("source"), path)
    name = lib.get("name")
    if not isinstance(name, str):
        raise BuildError(f"{path}: [library] name must be a string")

    def paths(key: str) -> list[Path]:
        return [root / p for p in _strings(lib, key, path)]

    def local(key: str) -> list[Path]:
        return [path.parent.resolve() / p for p in _strings(lib, key, path)]

    annotations = _annotations(data, path)
    exports = _strings(lib, "exports", path) if "exports" in lib else None
    req = WrapRequest(name, [*paths("headers"), *local("local_headers")],
                      [*paths("sources"), *local("local_sources")],
                      [*paths("include"), *local("local_include")],
                      _strings(lib, "defines", path), _strings(lib, "cflags", path), exports,
                      int(lib.get("stack_size", 128 << 10)), annotations, str(path))
    return Spec(path, req)


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


def _source_root(source: Any, path: Path) -> Path:
    if source is None:
        return path.parent.resolve()
    if not isinstance(source, dict):
        raise BuildError(f"{path}: [source] must be a table")
    from ..toolchain.fetch import fetch_debian_source, fetch_pin
    from ..toolchain.pins import PINS
    if "pin" in source:
        pin = PINS.get(source["pin"])
        if pin is None:
            raise BuildError(f"{path}: [source] pin {source['pin']!r} is unknown; known: "
                             f"{', '.join(sorted(PINS))}")
        root = fetch_pin(pin)
    elif {"package", "file", "sha256"} <= set(source):
        root = fetch_debian_source(source["package"], source["file"], source["sha256"])
    else:
        raise BuildError(f"{path}: [source] needs pin = NAME, or package, file and sha256")
    subdir = source.get("subdir", ".")
    if not isinstance(subdir, str):
        raise BuildError(f"{path}: [source] subdir must be a string")
    return root / subdir
