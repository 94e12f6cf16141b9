"""What the wheel builds besides the Python files: the extensions (the compiled boundary
``sandboxlib._boundary``, the allocator of linear memories ``sandboxlib._slab``, the
processor's level ``sandboxlib._cpu``, the
wasmtime backend's adapter to the boundary and wrapped.expat's dispatch fast lane) and the drop-ins' generated packages
(``build_generated``); what the sdist carries besides MANIFEST.in's files (the pinned
third-party tarballs, ``sdist``); everything else is in pyproject.toml."""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import Command, Extension, setup
from setuptools.command.build import build
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
# The pinned third-party tarballs the drop-ins are built from (sandboxlib.toolchain.pins),
# fetched and verified into the sdist by its build, never into git: building a wheel
# from the sdist then needs no network ($SANDBOXLIB_SOURCES points there).
THIRD_PARTY = "third_party"
BUNDLE = """
import sys
from pathlib import Path
from sandboxlib.toolchain.fetch import bundle_pins
bundle_pins(Path(sys.argv[1]))
"""

FLAGS = ["-O2", "-Wall", "-Werror=implicit"]
# the compiled boundary's files beside its module (sandboxlib/_boundary.c)
BOUNDARY_PARTS = [f"sandboxlib/_boundary_{part}.c" for part in
                  ("taint", "region", "gate", "plan", "args", "caller", "callback", "field",
                   "heap", "clock")]

# Run in the build directory, so that it imports the sandboxlib being built (with its
# extensions; -B: no bytecode left there): generates the package of each drop-in's spec
# beside the spec, with its first-use work done: the pre-initialized module and the
# wasm2c extensions for this Python (sandboxlib.precompile).
SHIP = """
from pathlib import Path
from sandboxlib.codegen.packages import ship
from sandboxlib.precompile import ship_package_precompiled
for spec in sorted(Path("sandboxlib/wrapped").glob("*/*.toml")):
    ship_package_precompiled(ship(spec))
"""


def with_sources() -> dict[str, str]:
    """The environment, with $SANDBOXLIB_SOURCES naming the tree's third_party/ if it has
    one (an unpacked sdist), unless it names another directory already."""
    env = dict(os.environ)
    if (ROOT / THIRD_PARTY).is_dir():
        env.setdefault("SANDBOXLIB_SOURCES", str(ROOT / THIRD_PARTY))
    return env


class Sdist(sdist):
    """``sdist``, and the pinned tarballs (verified by sha256) under third_party/."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        target = Path(base_dir, THIRD_PARTY).resolve()
        subprocess.run([sys.executable, "-B", "-c", BUNDLE, str(target)], cwd=ROOT,
                       env=with_sources(), check=True)


class BuildGenerated(Command):
    """Generate the drop-ins' packages (``sandboxlib/wrapped/*/_generated/``) into the
    wheel from the pinned sources, with their wasm2c extensions built, so that using a
    drop-in from it needs neither network nor compiler (``sandboxlib.codegen.packages``). Not in an editable install:
    there they are generated into the cache on first use, as from a source tree."""

    description = "generate the packages of sandboxlib.wrapped's specs into the build"
    user_options: list[tuple[str, str | None, str]] = []
    editable_mode = False  # set by setuptools for an editable install

    def initialize_options(self) -> None:
        self.build_lib: str | None = None

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def run(self) -> None:
        if not self.editable_mode:
            subprocess.run([sys.executable, "-B", "-c", SHIP], cwd=self.build_lib,
                           env=with_sources(), check=True)

    def get_outputs(self) -> list[str]:
        """The files ``run`` wrote."""
        if self.editable_mode or self.build_lib is None:
            return []
        shipped = Path(self.build_lib, "sandboxlib", "wrapped").glob("*/_generated/**/*")
        return sorted(str(p) for p in shipped if p.is_file())


class Build(build):
    """``build``, then ``build_generated`` (after the extensions it imports)."""

    sub_commands = [*build.sub_commands, ("build_generated", None)]


setup(
    cmdclass={"build": Build, "build_generated": BuildGenerated, "sdist": Sdist},
    ext_modules=[
        Extension("sandboxlib._boundary", ["sandboxlib/_boundary.c", *BOUNDARY_PARTS],
                  extra_compile_args=[*FLAGS, "-fvisibility=hidden"],
                  depends=["sandboxlib/_slots.h", "sandboxlib/_boundary.h", "sandboxlib/_clock.h",
                           "sandboxlib/_boundary_internal.h"]),
        Extension("sandboxlib._slab", ["sandboxlib/_slab.c"], extra_compile_args=FLAGS,
                  depends=["sandboxlib/_slab.h"]),
        Extension("sandboxlib._cpu", ["sandboxlib/_cpu.c"], extra_compile_args=FLAGS),
        Extension("sandboxlib.backends.wasmtime._adapter",
                  ["sandboxlib/backends/wasmtime/_adapter.c"], extra_compile_args=FLAGS,
                  depends=["sandboxlib/_boundary.h", "sandboxlib/_slab.h", "sandboxlib/_clock.h"]),
        Extension("sandboxlib.wrapped.expat._fastlane", ["sandboxlib/wrapped/expat/_fastlane.c"],
                  extra_compile_args=FLAGS, depends=["sandboxlib/_slots.h"]),
    ],
)
