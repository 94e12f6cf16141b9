"""The compiled boundary (``sandboxlib._boundary``) is the one extension built at
install time; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("sandboxlib._boundary", ["sandboxlib/_boundary.c"],
                             extra_compile_args=["-O2", "-Wall", "-Werror=implicit"])])
