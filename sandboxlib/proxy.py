"""The base of generated proxies: a sandbox with one method per C function.

A generated class subclasses ``LibraryProxy`` and declares one method per C
function (``c_function``); reading it from a proxy binds the sandbox's fast caller
into the instance and hands that out, so a method kept before the first call is as
fast as one read after it. Helpers (``alloc``, ``copy_in``, ``callback``,
``new``, ``view``) are shared by every generated package.
"""

from __future__ import annotations

from types import MethodType
from typing import Any, Callable, Literal, NoReturn, TypeVar, Union, overload

from .abi import FuncPtr, Prim, Ptr, Signature
from .errors import ArgumentError, PoisonedError
from .runtime.handles import Handle, HandleTable
from .abi import PointerValue
from .runtime.objects import Allocation, CallbackHandle
from .runtime.sandbox import UNPICKLABLE, Sandbox
from .runtime.snapshot import Snapshot
from .runtime.structs import ArrayOf, Cell, Struct
from .taint import Tainted, TaintedPtr

S = TypeVar("S", bound=Struct)

# What a generated method accepts for a pointer parameter (see runtime/marshal.py).
PointerArg = Union[TaintedPtr, Allocation, Struct, CallbackHandle, Handle[Any], PointerValue, int,
                   None]
# What the host makes that passes for a pointer to a given struct (the stubs add the
# struct's pointer type and view class), and data a const pointer takes.
HostPointer = Union[Allocation, Handle[Any], PointerValue, int, None]
HostData = Union[bytes, bytearray, memoryview, str]
# (a Cell, from out(), is an Allocation)
ConstData = Union[PointerArg, bytes, bytearray, memoryview, str]
CallbackArg = Union[CallbackHandle, None]

__all__ = ["ArrayOf", "CallbackArg", "Cell", "ConstData", "Helpers", "HostData", "HostPointer",
           "LibraryProxy", "PointerArg", "Struct", "c_function"]


class c_function:  # noqa: N801  (a decorator, spelled as one)
    """A generated method for C function ``name``: read from a usable proxy, it is
    the sandbox's fast caller (bound once into the instance); from the class, or from
    a closed or poisoned proxy, the plain function (which raises when called)."""

    __slots__ = ("name", "function", "attr")

    def __init__(self, name: str) -> None:
        self.name = name
        self.attr = ""

    def __call__(self, function: Callable[..., Any]) -> c_function:
        self.function = function
        return self

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    def __get__(self, proxy: LibraryProxy | None, owner: type) -> Callable[..., Any]:
        if proxy is None:
            return self.function
        try:
            return proxy._bind(self.name, self.attr)
        except PoisonedError:  # closed too: calling it raises
            return MethodType(self.function, proxy)


class LibraryProxy:
    """A sandboxed library: C functions as methods, every result tainted.

    ``bytes``/``str`` passed where the C function takes a const pointer are copied in
    for that call only (the next call reuses the space): for data the library keeps
    past the call, pass ``keep(data)``."""

    sandbox: Sandbox

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _bind(self, name: str, attr: str = "") -> Callable[..., Any]:
        """The fast caller of C function ``name``, cached as the instance attribute
        ``attr`` (the method's name, if the generator renamed it)."""
        fn = self.sandbox.bind(self.sandbox.library.function(name))
        fn.__doc__ = getattr(type(self), attr or name).__doc__  # the C prototype
        self.__dict__[attr or name] = fn  # later lookups find the fast caller first
        return fn

    # -- lifecycle ----------------------------------------------------------------
    def close(self) -> None:
        self.sandbox.close()

    def __enter__(self: _P) -> _P:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def poisoned(self) -> str | None:
        return self.sandbox.poisoned

    def __repr__(self) -> str:
        sb = self.sandbox
        return (f"<{type(self).__qualname__} proxy of {sb.library.name} on "
                f"{sb.backend.name}: {sb._state}>")

    def __reduce__(self) -> NoReturn:
        raise TypeError(UNPICKLABLE.format(what=f"a {type(self).__qualname__} proxy"))

    # -- memory -------------------------------------------------------------------
    def snapshot(self: _P) -> Snapshot[_P]:
        """This sandbox's state now; ``snapshot.sandbox()`` starts a new proxy in it
        (see ``sandboxlib.runtime.snapshot``)."""
        return self.sandbox._snapshot(type(self))

    def alloc(self, size: int) -> Allocation:
        """``size`` bytes inside the sandbox, owned by the host."""
        return self.sandbox.alloc(size)

    def copy_in(self, data: bytes | bytearray | memoryview,
                nul_terminate: bool = False) -> Allocation:
        """A host-owned copy of ``data`` inside the sandbox."""
        return self.sandbox.copy_in(data, nul_terminate)

    def borrow(self, pointer: TaintedPtr | Allocation | int, length: int) -> Tainted[memoryview]:
        """A zero-copy view of sandbox memory, released at the next call (see
        ``Sandbox.borrow``)."""
        return self.sandbox.borrow(pointer, length)

    def free(self, pointer: TaintedPtr) -> None:
        """Free a pointer the library returned, with the sandbox's ``free``."""
        self.sandbox.free(pointer)

    def keep(self, data: bytes | bytearray | memoryview | str) -> Allocation:
        """A NUL-terminated copy of ``data`` for a library that keeps the pointer past
        the call (a bytes/str argument is copied for the call only): it lives until
        it is freed or the sandbox closes."""
        return self.sandbox.copy_in(data.encode() if isinstance(data, str) else data,
                                    nul_terminate=True)

    @overload  # (a float type is a Prim too: the first match wins)
    def out(self, ctype: Literal[Prim.FLOAT, Prim.DOUBLE],  # type: ignore[overload-overlap]
            initial: object = None) -> Cell[Tainted[float]]: ...
    @overload
    def out(self, ctype: Literal[Prim.BOOL], initial: object = None) -> Cell[Tainted[bool]]: ...
    @overload
    def out(self, ctype: Prim, initial: object = None) -> Cell[Tainted[int]]: ...
    @overload
    def out(self, ctype: Ptr | FuncPtr, initial: object = None) -> Cell[TaintedPtr]: ...

    def out(self, ctype: Prim | Ptr | FuncPtr, initial: object = None) -> Cell[Any]:
        """A C value of type ``ctype`` for an out-parameter (``T *``): pass it, then
        read ``.value``, tainted (sized for this sandbox's data model; see ``Cell``)."""
        return self.sandbox.out(ctype, initial)

    def new(self, struct: type[S]) -> tuple[S, Allocation]:
        """A zeroed struct allocated in the sandbox: (view, allocation to free)."""
        size = struct.sizeof(self.sandbox.model)
        alloc = self.sandbox.copy_in(bytes(size))
        return struct(self.sandbox, alloc.address), alloc

    def view(self, struct: type[S], pointer: TaintedPtr | Allocation | int) -> S:
        """View sandbox memory at ``pointer`` as ``struct`` (bounds-checked)."""
        if isinstance(pointer, Allocation):
            pointer = pointer.address_in(self.sandbox, f"view({struct.__name__})")
        return struct(self.sandbox, pointer)

    def callback(self, fn: Callable[..., Any], sig: Signature, name: str = "") -> CallbackHandle:
        """Make ``fn`` a C function pointer of type ``sig`` (arguments arrive tainted)."""
        return self.sandbox.callback(fn, sig, name)

    @property
    def handles(self) -> HandleTable:
        """Host objects passed in as opaque handles (``handles.new(obj)``, ``.get(value, T)``)."""
        return self.sandbox.handles


_P = TypeVar("_P", bound=LibraryProxy)


class Helpers:
    """Base of generated high-level helpers (``lib.helpers``)."""

    _lib: Any

    def __init__(self, lib: LibraryProxy) -> None:
        self._lib = lib

    def _count(self, data: bytes | bytearray | memoryview, element: Prim) -> int:
        """How many ``element`` values ``data`` holds (it must hold a whole number)."""
        size: int = self._lib.sandbox.model.size(element)
        if len(data) % size:
            raise ArgumentError(f"{len(data)} bytes are not a whole number of "
                                f"{element.value} ({size} bytes each)")
        return len(data) // size

    def _string(self, pointer: TaintedPtr, max_len: int, free: str | None) -> Tainted[bytes] | None:
        """Copy a returned C string out, then free it (with ``free``, a library
        function, or the sandbox's own ``free``)."""
        if pointer.is_null():
            return None
        try:
            return pointer.copy_string(max_len)
        finally:
            if free == "free":
                self._lib.free(pointer)
            elif free is not None:
                getattr(self._lib, free)(pointer)
