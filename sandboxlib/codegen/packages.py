"""Packages generated from spec files on first use, cached by content, or shipped.

``load_generated(spec)`` is what a hand-written wrapper (``sandboxlib.wrapped.zlib``) imports
its low-level proxy with. A wheel ships the package of each of its specs beside the spec
(``_generated/NAME/``, written by ``ship`` when the wheel is built) with the key it was
built for (``_generated/NAME.key``); when that key is the spec's ``shipped_key`` now,
the shipped package is imported: no network, no compiler. Otherwise (an editable
install, an edited spec) the first call fetches the pinned sources, builds the module
and generates the package into the cache (showing progress); later calls import it
straight from there. Threads and processes asking at once generate it once, and a
process imports it once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

from .. import __version__
from ..errors import BuildError
from ..once import Memo
from ..toolchain.cache import build_entry, content_key
from ..toolchain.zig import compiler_version
from .spec import licence_files, load_spec, spec_inputs

_GENERATOR = Path(__file__).resolve().parent
_TOOLCHAIN = _GENERATOR.parent / "toolchain"
SHIPPED = "_generated"  # the folder beside a spec that holds its shipped package
_imported: Memo[str, ModuleType] = Memo()


def code_fingerprint() -> str:
    """Changes whenever the generator's or the toolchain's code (flags, pins, the x86
    intrinsics headers, the C it links into every module) does."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted([*_GENERATOR.glob("*.py"), *_TOOLCHAIN.glob("*.py"),
                        *_TOOLCHAIN.glob("x86_intrinsics/*.h"), *_TOOLCHAIN.glob("libc/*.c"),
                        *_TOOLCHAIN.glob("sjlj/*.c"), *_TOOLCHAIN.glob("sjlj/include/*.h")]):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def generator_fingerprint() -> str:
    """``code_fingerprint`` and the wasm compiler's version: what the cached packages
    are keyed by besides their inputs."""
    return hashlib.sha256(f"{code_fingerprint()}\0{compiler_version()}".encode()).hexdigest()[:16]


def shipped_key(spec_path: Path) -> str:
    """What a package shipped for ``spec_path`` must have been built from to be used:
    the spec's text and own C files, the pinned tarball (version and sha256) and the
    generator's code, read without network or compiler. The compiler's version is not
    in it: the shipped module was compiled when the wheel was built, and whichever zig
    is installed beside it compiles nothing of it."""
    inputs = spec_inputs(spec_path)
    return content_key("shipped", inputs.files, inputs.include_dirs,
                       [spec_path.read_text(), inputs.tarball, code_fingerprint()])


def load_generated(spec_path: Path) -> ModuleType:
    """Import the package ``spec_path`` describes: the shipped one if it was built
    from what is here now, else the cached one, generating it if needed."""
    package, key = _shipped(spec_path) or _cached(spec_path)
    modname = f"_sandboxlib_generated_{package.name}_{key[:12]}"
    return _imported.get(modname, lambda: import_package(modname, package))


def ship(spec_path: Path) -> Path:
    """Generate the package of ``spec_path`` (through the cache) and place it beside the
    spec with its ``shipped_key``, as a wheel ships it; returns the package's path (the
    wheel's build then adds its first-use work: ``sandboxlib.precompile``)."""
    package, _ = _cached(spec_path)
    dest = spec_path.parent / SHIPPED
    shutil.rmtree(dest / package.name, ignore_errors=True)
    shutil.copytree(package, dest / package.name,
                    ignore=shutil.ignore_patterns("__pycache__"))
    licences = dest / package.name / "LICENSES"  # of the third-party code it carries
    for name, file in licence_files(spec_path).items():
        licences.mkdir(exist_ok=True)
        shutil.copyfile(file, licences / name)
    (dest / f"{package.name}.key").write_text(shipped_key(spec_path) + "\n")
    return dest / package.name


def _shipped(spec_path: Path) -> tuple[Path, str] | None:
    """The package shipped beside ``spec_path`` and its key, if its recorded key is the
    spec's ``shipped_key``."""
    package = spec_path.parent / SHIPPED / spec_inputs(spec_path).name
    recorded = package.with_name(f"{package.name}.key")
    if not recorded.is_file():
        return None
    key = shipped_key(spec_path)
    return (package, key) if recorded.read_text().strip() == key else None


def _cached(spec_path: Path) -> tuple[Path, str]:
    """The package of ``spec_path`` in the cache and its key, generated there if needed
    (fetching the pinned sources and compiling the module)."""
    req = load_spec(spec_path).request
    key = content_key("generated", req.sources,
                      [*req.include_dirs, *(h.parent for h in req.headers)],
                      [spec_path.read_text(), generator_fingerprint()])

    def generate(tmp: Path) -> None:
        from .generate import wrap
        wrap(req, tmp)
    return build_entry("generated", key, f"{req.name}/__init__.py", generate) / req.name, key


def import_package(modname: str, package: Path) -> ModuleType:
    """Import the generated package in the folder ``package`` as ``modname``."""
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
