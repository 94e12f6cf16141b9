"""The extensions built at install time: the compiled boundary
(``sandboxlib._boundary``), the allocator of linear memories (``sandboxlib._slab``) and
wrapped.expat's dispatch fast lane; everything else is in pyproject.toml."""

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Werror=implicit"]
setup(ext_modules=[
    Extension("sandboxlib._boundary", ["sandboxlib/_boundary.c"], extra_compile_args=FLAGS,
              depends=["sandboxlib/_slots.h"]),
    Extension("sandboxlib._slab", ["sandboxlib/_slab.c"], extra_compile_args=FLAGS,
              depends=["sandboxlib/_slab.h"]),
    Extension("sandboxlib.wrapped.expat._fastlane", ["sandboxlib/wrapped/expat/_fastlane.c"],
              extra_compile_args=FLAGS, depends=["sandboxlib/_slots.h"]),
])
