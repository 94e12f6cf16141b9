"""Packages generated from spec files on first use, cached by content.

``load_generated(spec)`` is what a hand-written wrapper (``sandboxlib.wrapped.zlib``) imports
its low-level proxy with: the first call fetches the pinned sources, builds the
module and generates the package into the cache (showing progress); later calls
import it straight from there. Threads and processes asking at once generate it once,
and a process imports it once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .. import __version__
from ..errors import BuildError
from ..once import Memo
from ..toolchain.cache import build_entry, content_key
from ..toolchain.zig import compiler_version
from .generate import wrap
from .spec import load_spec

_GENERATOR = Path(__file__).resolve().parent
_TOOLCHAIN = _GENERATOR.parent / "toolchain"
_imported: Memo[str, ModuleType] = Memo()


def generator_fingerprint() -> str:
    """Changes whenever the generator's or the toolchain's code (flags) does."""
    h = hashlib.sha256(f"{__version__}\0{compiler_version()}".encode())
    for path in sorted([*_GENERATOR.glob("*.py"), *_TOOLCHAIN.glob("*.py")]):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def load_generated(spec_path: Path) -> ModuleType:
    """Import the package ``spec_path`` describes, generating it if needed."""
    spec = load_spec(spec_path)
    req = spec.request
    key = content_key("generated", req.sources, [*req.include_dirs, *(h.parent for h in req.headers)],
                      [spec_path.read_text(), generator_fingerprint()])

    def generate(tmp: Path) -> None:
        wrap(req, tmp)
    package = build_entry("generated", key, f"{req.name}/__init__.py", generate) / req.name
    modname = f"_sandboxlib_generated_{req.name}_{key[:12]}"
    return _imported.get(modname, lambda: _import(modname, package))


def _import(modname: str, package: Path) -> ModuleType:
    found = importlib.util.spec_from_file_location(modname, package / "__init__.py",
                                                   submodule_search_locations=[str(package)])
    if found is None or found.loader is None:
        raise BuildError(f"cannot import the generated package {package}")
    module = importlib.util.module_from_spec(found)
    sys.modules[modname] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        del sys.modules[modname]
        raise
    return module
