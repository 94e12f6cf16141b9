"""What the wheel builds besides the Python files: the extensions (the compiled boundary
``sandboxlib._boundary``, the allocator of linear memories ``sandboxlib._slab``, the
wasmtime backend's adapter to the boundary and wrapped.expat's dispatch fast lane) and the drop-ins' generated packages
(``build_generated``); everything else is in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

from setuptools import Command, Extension, setup
from setuptools.command.build import build

FLAGS = ["-O2", "-Wall", "-Werror=implicit"]
# the compiled boundary's files beside its module (sandboxlib/_boundary.c)
BOUNDARY_PARTS = [f"sandboxlib/_boundary_{part}.c" for part in
                  ("taint", "region", "gate", "plan", "args", "caller", "callback", "field",
                   "clock")]

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
            subprocess.run([sys.executable, "-B", "-c", SHIP], cwd=self.build_lib, check=True)

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
    cmdclass={"build": Build, "build_generated": BuildGenerated},
    ext_modules=[
        Extension("sandboxlib._boundary", ["sandboxlib/_boundary.c", *BOUNDARY_PARTS],
                  extra_compile_args=[*FLAGS, "-fvisibility=hidden"],
                  depends=["sandboxlib/_slots.h", "sandboxlib/_boundary.h", "sandboxlib/_clock.h",
                           "sandboxlib/_boundary_internal.h"]),
        Extension("sandboxlib._slab", ["sandboxlib/_slab.c"], extra_compile_args=FLAGS,
                  depends=["sandboxlib/_slab.h"]),
        Extension("sandboxlib.backends.wasmtime._adapter",
                  ["sandboxlib/backends/wasmtime/_adapter.c"], extra_compile_args=FLAGS,
                  depends=["sandboxlib/_boundary.h", "sandboxlib/_slab.h", "sandboxlib/_clock.h"]),
        Extension("sandboxlib.wrapped.expat._fastlane", ["sandboxlib/wrapped/expat/_fastlane.c"],
                  extra_compile_args=FLAGS, depends=["sandboxlib/_slots.h"]),
    ],
)
