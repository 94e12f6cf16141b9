"""The native backend: the same C compiled for the host with cffi. No isolation.

It is the baseline of every comparison and a migration aid (RLBox's "noop
sandbox"): the proxy, the taint checks and the argument checks are the same, but
the library runs with the full rights of the process and a memory error in it is
a memory error in Python. Limits and grants cannot be enforced here, and a running
call cannot be stopped (``interrupt()`` raises; Ctrl-C is seen when the call returns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..abi import (FREE, HOST, MALLOC, Function, FuncPtr, Prim, Ptr, Signature, c_decl,
                   function_type_decl, raw_field)
from ..errors import BuildError, SandboxError
from .._boundary import REGION_HOST
from .memory import RegionAccess
from .base import RAW_VALUE_C, CallbackTarget, LibraryModule, RawEntry
from ..config import Grants, Limits
from ..toolchain.cext import build_extension



class NativeMemory:
    """The whole host address space: only NULL is refused by the shared checks."""

    def region(self) -> tuple[int, int]:
        return 0, 1 << (8 * HOST.pointer_size)

    def pin(self) -> None:
        """Host memory has no sandbox lifetime to keep."""
        return None

    def access(self) -> RegionAccess:
        return RegionAccess(REGION_HOST)

    def grow(self, pages: int) -> bool:
        """The host's memory is not a sandbox's to grow."""
        return False


def cdef_for(functions: tuple[Function, ...]) -> str:
    decls = [f"{c_decl(fn.sig.result)} {fn.name}("
             f"{', '.join(c_decl(t) for t in fn.sig.params) or 'void'});" for fn in functions
             if fn.name not in ("malloc", "free")]
    return "\n".join(["void *malloc(size_t size);", "void free(void *ptr);", *decls])


class NativeInstance:
    def __init__(self, module: Any) -> None:
        self._ffi = module.ffi
        self._lib = module.lib
        self.memory = NativeMemory()
        self._callbacks: dict[int, Any] = {}

    def entry(self, fn: Function) -> RawEntry:
        try:
            address = self._ffi.addressof(self._lib, _entry_name(fn))
        except (AttributeError, TypeError):  # not among the functions it was built with
            raise SandboxError(f"{fn.name}: the native build of this library has no such "
                               "function") from None
        return RawEntry(self, int(self._ffi.cast("uintptr_t", address)))

    def add_callback(self, sig: Signature, target: CallbackTarget) -> int:
        ffi = self._ffi
        pointer_args = [i for i, t in enumerate(sig.params) if isinstance(t, (Ptr, FuncPtr))]
        pointer_result = isinstance(sig.result, (Ptr, FuncPtr))

        def trampoline(*args: Any) -> Any:  # a failure waits in the target's gate
            value = target(*[int(ffi.cast("uintptr_t", a)) if i in pointer_args else a
                             for i, a in enumerate(args)])
            return ffi.cast("void *", value) if pointer_result else value

        cb = ffi.callback(function_type_decl(sig, pointer=True), trampoline)
        address = int(ffi.cast("uintptr_t", cb))
        self._callbacks[address] = cb
        return address

    def remove_callback(self, address: int) -> None:
        """Nothing to free early: C may still hold the address (a callback that closed
        its sandbox returns into a library that calls it again), so the trampoline lives
        as long as the instance and reaches the removed target, which refuses."""

    def interrupt(self) -> bool:
        raise SandboxError("the native backend cannot interrupt a running call: the "
                           "library's code runs as the process's own, with no checks to stop "
                           "at (use wasm2c or wasmtime)")

    def close(self) -> None:
        """Nothing to release early (see ``remove_callback``)."""


class NativeBackend:
    name = "native"
    isolated = False
    model = HOST

    def instantiate(self, library: LibraryModule, limits: Limits, grants: Grants) -> NativeInstance:
        return NativeInstance(native_module(library))


def native_module(library: LibraryModule) -> Any:
    """The library compiled for the host as a cffi extension (built once per library)."""
    return library.memo("native", lambda: _build(library))


def _build(library: LibraryModule) -> Any:
    if not library.sources:
        raise BuildError(f"{library.name}: the native backend needs the C sources, and "
                         "this library was given none")
    # A function-like macro shadowing a function (zlib's gzgetc) would capture cffi's
    # call; the function itself is what is wrapped. Without headers, the declarations
    # are the prototypes (ABI-compatible).
    cdef = cdef_for(library.functions)
    prelude = "#include <stdlib.h>\n#include <stdint.h>\n" + (
        "".join(map(_include, library.headers)) + "".join(
            f"#undef {fn.name}\n" for fn in library.functions) if library.headers
        else cdef + "\n")
    functions = {fn.name: fn for fn in (MALLOC, FREE, *library.functions)}.values()
    entries = [_entry(fn) for fn in functions]
    return build_extension("native", library.name,
                           cdef + "".join(f"\nint {_entry_name(fn)}(void *, void *);"
                                          for fn in functions),
                           prelude + RAW_VALUE_C + "\n".join(entries), library.sources,
                           library.include_dirs, library.defines, library.cflags)


def _entry_name(fn: Function) -> str:
    return f"sbx_r_{fn.name}"


def _entry(fn: Function) -> str:
    """``fn``'s uniform entry for the compiled boundary: its arguments read from the
    value array, its result stored in it (it cannot fail: what a callback raised
    waits in the sandbox's gate)."""
    args = []
    for i, t in enumerate(fn.sig.params):
        field = raw_field(t, HOST)
        args.append(f"(void *)(uintptr_t)v[{i}].{field}" if isinstance(t, (Ptr, FuncPtr))
                    else f"({c_decl(t)})v[{i}].{field}")
    call = f"{fn.name}({', '.join(args)})"
    r = fn.sig.result
    if r is Prim.VOID:
        stored = call
    elif isinstance(r, (Ptr, FuncPtr)):
        stored = f"v[0].u64 = (uint64_t)(uintptr_t){call}"
    else:
        stored = f"v[0].{raw_field(r, HOST)} = {call}"
    return f"int {_entry_name(fn)}(void *unused, sbx_val *v) {{\n  {stored};\n  return 0;\n}}\n"


def _include(header: Path) -> str:
    """The ``#include`` line of ``header``: a path no ``#include`` can spell (a quote or
    a line break in it, or bytes that are not UTF-8, which cffi's source is written in)
    is refused, never written into the C source."""
    path = str(header.resolve())
    if any(c in path for c in '"\r\n'):
        raise BuildError(f"header {path!r}: a quote or line break in its path cannot be "
                         "#included; rename it")
    if any("\udc80" <= c <= "\udcff" for c in path):  # (os.fsdecode's undecodable bytes)
        raise BuildError(f"header {path!r}: its path is not UTF-8, which the native build's "
                         "C source is written in; rename it")
    return f'#include "{path}"\n'
