"""$SANDBOXLIB_NO_COMPILE: every compiling entry point refuses at once instead of compiling.

``make quick`` sets it for the fast test tier, which runs no compiler: a test there that
reaches zig, cffi, wasm2c, wasmtime's compiler or pre-initialization fails loudly,
instead of passing slowly (or only on a machine whose build cache is warm).
"""

from __future__ import annotations

import os

NO_COMPILE_ENV = "SANDBOXLIB_NO_COMPILE"


class CompileDisabled(RuntimeError):
    """A compiler was reached while $SANDBOXLIB_NO_COMPILE was set. Not a BuildError on
    purpose: nothing that expects a failed build may take it for one."""


def compiling_disabled() -> bool:
    """Whether $SANDBOXLIB_NO_COMPILE is set (to anything but empty or ``0``)."""
    return os.environ.get(NO_COMPILE_ENV, "") not in ("", "0")


def refuse_if_no_compile(what: str) -> None:
    """Raise CompileDisabled naming ``what`` if compiling is disabled. Each entry point
    (``build_wasm``, ``build_extension``, wasm2c's ``translate``, wasmtime's
    ``compiled_module``, ``preinitialized``) calls it first, before its cache is looked
    at, so a warm cache cannot hide a test that compiles on an empty one."""
    if compiling_disabled():
        raise CompileDisabled(f"{what}: compiling is disabled (${NO_COMPILE_ENV} is set, as "
                              "`make quick` does); a test that needs it belongs to `make test`")
