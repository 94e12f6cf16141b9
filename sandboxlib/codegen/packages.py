"""Packages generated from spec files on first use, cached by content.

``load_generated(spec)`` is what a hand-written wrapper (``wrapped.zlib``) imports
its low-level proxy with: the first call fetches the pinned sources, builds the
module and generates the package into the cache (showing progress); later calls
import it straight from there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .. import __version__
from ..errors import BuildError
from ..toolchain.cache import content_key, entry_dir
from ..toolchain.zig import compiler_version
from .generate import wrap
from .spec import load_spec

_GENERATOR = Path(__file__).resolve().parent
_TOOLCHAIN = _GENERATOR.parent / "toolchain"


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
    out = entry_dir("generated", key)
    package = out / req.name
    if not (package / "__init__.py").is_file():
        wrap(req, out)
    modname = f"_sandboxlib_generated_{req.name}_{key[:12]}"
    if modname in sys.modules:
        return sys.modules[modname]
    found = importlib.util.spec_from_file_location(modname, package / "__init__.py",
                                                   submodule_search_locations=[str(package)])
    if found is None or found.loader is None:
        raise BuildError(f"cannot import the generated package {package}")
    module = importlib.util.module_from_spec(found)
    sys.modules[modname] = module
    found.loader.exec_module(module)
    return module
