"""The native backend: the same C compiled for the host with cffi. No isolation.

It is the baseline of every comparison and a migration aid (RLBox's "noop
sandbox"): the proxy, the taint checks and the argument checks are the same, but
the library runs with the full rights of the process and a memory error in it is
a memory error in Python. Limits and grants cannot be enforced here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..abi import HOST, Function, FuncPtr, Prim, Ptr, Signature, c_decl, function_type_decl
from ..errors import BuildError
from .base import HostFunction, LibraryModule, RawFunction
from .hostcalls import HostCalls
from ..config import Grants, Limits
from ..toolchain.cext import build_extension



class NativeMemory:
    """The whole host address space: only NULL is refused by the shared checks."""

    def region(self) -> tuple[int, int]:
        return 0, 1 << (8 * HOST.pointer_size)

    def pin(self) -> None:
        """Host memory has no sandbox lifetime to keep."""
        return None


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
        self._hostcalls = HostCalls()  # only its exception relay: callbacks are cffi's

    def function(self, fn: Function) -> RawFunction:
        c_fn = getattr(self._lib, fn.name)
        ffi = self._ffi
        pointer_params = [i for i, t in enumerate(fn.sig.params) if isinstance(t, (Ptr, FuncPtr))]
        pointer_result = isinstance(fn.sig.result, (Ptr, FuncPtr))
        cast = ffi.cast

        def call(*args: Any) -> Any:
            if pointer_params:
                args = tuple(cast("void *", a) if i in pointer_params else a
                             for i, a in enumerate(args))
            result = c_fn(*args)
            pending = self._hostcalls.take()
            if pending is not None:  # a callback raised during the call
                raise pending
            return int(cast("uintptr_t", result)) if pointer_result else result
        return call

    def add_callback(self, sig: Signature, target: HostFunction) -> int:
        ffi = self._ffi
        pointer_args = [i for i, t in enumerate(sig.params) if isinstance(t, (Ptr, FuncPtr))]
        default = None if sig.result is Prim.VOID else 0

        def trampoline(*args: Any) -> Any:
            if self._hostcalls.failed:
                return default
            try:
                lowered = [int(ffi.cast("uintptr_t", a)) if i in pointer_args else a
                           for i, a in enumerate(args)]
                value = target(*lowered)
                if isinstance(sig.result, (Ptr, FuncPtr)):
                    return ffi.cast("void *", value)
                return value
            except BaseException as exc:  # cannot unwind through C: re-raised after the call
                self._hostcalls.hold(exc)
                return default

        cb = ffi.callback(function_type_decl(sig), trampoline)
        address = int(ffi.cast("uintptr_t", cb))
        self._callbacks[address] = cb
        return address

    def remove_callback(self, address: int) -> None:
        self._callbacks.pop(address, None)

    def close(self) -> None:
        self._callbacks.clear()


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
    prelude = "#include <stdlib.h>\n" + ("".join(map(_include, library.headers)) + "".join(
        f"#undef {fn.name}\n" for fn in library.functions) if library.headers
        else cdef + "\n")
    return build_extension("native", library.name, cdef, prelude, library.sources,
                           library.include_dirs, library.defines, library.cflags)


def _include(header: Path) -> str:
    """The ``#include`` line of ``header``: a path no ``#include`` can spell (a quote or
    a line break in it) is refused, never written into the C source."""
    path = str(header.resolve())
    if any(c in path for c in '"\r\n'):
        raise BuildError(f"header {path!r}: a quote or line break in its path cannot be "
                         "#included; rename it")
    return f'#include "{path}"\n'
