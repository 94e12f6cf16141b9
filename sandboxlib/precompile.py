"""A generated package's first-use work, done ahead of time.

``ship_precompiled`` (the wheel's build: setup.py, after ``codegen.packages.ship``; and
``sandboxlib precompile``) places beside a package's module what its first sandbox on
wasm2c would otherwise build: the pre-initialized image and the wasm2c extension for each
meter in ``SHIPPED_METERS`` and each processor level of ``toolchain.cpu.shipped_levels``
(a machine loads the best it runs); the backend loads them with no compiler, zig or wabt.
``warm`` (``sandboxlib precompile --cache``) does the same work into the build cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .backends.wasm2c.build import ship_extension
from .codegen.packages import import_package
from .config import Grants, Limits
from .library import Library
from .progress import progress
from .toolchain.cpu import shipped_levels
from .toolchain.preinit import ship_image

# What a sandbox's limits make the wasm2c backend build (Wasm2cBackend.instantiate):
# 1 with fuel, 0 for calls that cannot be stopped (interruptible=False), else 2 (a
# timeout, interrupt(), Ctrl-C stop them). A wheel ships 2; the others compile on first use.
METER_LIMITS = {0: Limits(interruptible=False), 1: Limits(fuel=10**12), 2: Limits()}
SHIPPED_METERS = (2,)


def ship_precompiled(library: Library, meters: Iterable[int] = SHIPPED_METERS,
                     levels: Iterable[str] | None = None) -> list[Path]:
    """Pre-initialize ``library``'s module (whose folder is a package being shipped) and
    build its wasm2c extension for each of ``meters`` and each processor level of
    ``levels`` (default: every shipped one), all placed beside the module; returns the
    files written."""
    levels = shipped_levels() if levels is None else tuple(levels)
    written = []
    if library.preinit:
        with progress(f"pre-initializing {library.name}"):
            image = ship_image(library.built_module(), library.name)
        written += [image] if image is not None else []
    wasm = library.wasm_module(Grants(), Limits())  # the image shipped: its folder
    for meter in meters:
        for cpu in levels:
            with progress(f"precompiling {_label(library, 'wasm2c', meter)} for {cpu}"):
                written.append(ship_extension(library, wasm, meter, cpu))
    return written


def precompile_into_package(library: Library, backends: Iterable[str],
                            meters: Iterable[int], levels: Iterable[str]) -> list[Path]:
    """The first-use work of ``backends`` written into ``library``'s package (beside its
    module), as ``ship_precompiled``: the pre-initialized image for both wasm backends,
    the wasm2c extension of each of ``meters`` for each processor level of ``levels``.
    What has no place there (the native build, wasmtime's compiled code) goes to the
    build cache (``warm``). Returns the files written into the package."""
    chosen = set(backends)
    written = ship_precompiled(library, meters if "wasm2c" in chosen else (), levels) \
        if chosen & {"wasm2c", "wasmtime"} else []
    warm(library, sorted(chosen - {"wasm2c"}), [0])
    return written


def _label(library: Library, backend: str, meter: int) -> str:
    return f"{library.name} on {backend}" + {0: " (uninterruptible)", 1: " (fuel)", 2: ""}[meter]


def ship_package_precompiled(package: Path) -> list[Path]:
    """``ship_precompiled`` for the generated package in folder ``package``."""
    module = import_package(f"_sandboxlib_shipping_{package.name}", package)
    library: Library = module.LIBRARY
    return ship_precompiled(library)


def warm(library: Library, backends: Iterable[str], meters: Iterable[int]) -> None:
    """Do the first-use work of a sandbox of ``library`` on each of ``backends`` (and each
    of ``meters`` on wasm2c) now, into the build cache: build and pre-initialize the
    module, translate and compile it, with progress."""
    for backend in backends:
        for meter in (meters if backend == "wasm2c" else [2]):
            with progress(f"precompiling {_label(library, backend, meter)}"):
                library.sandbox(backend, limits=METER_LIMITS[meter]).close()
