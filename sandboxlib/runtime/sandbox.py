"""The backend-neutral sandbox: calls, memory, allocations, callbacks, poisoning."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

from ..abi import CType, Function, FuncPtr, Prim, Ptr, Signature
from ..backends import get_backend
from ..errors import (ArgumentError, BoundsError, PoisonedError, ResourceError, SandboxError,
                      TaintError, TrapError)
from ..handles import HandleTable
from ..taint import Tainted, TaintedPtr, short_repr
from .config import Grants, Limits
from .marshal import Temps, converter, lifter, truncate_to, wasm_shape
from .memory import Memory
from .specialize import factory

if TYPE_CHECKING:
    from ..library import Library
    from .backend import Instance

SCRATCH_SIZE = 4096  # bytes of call arguments copied in without a malloc
DEFAULT_LIMITS, DEFAULT_GRANTS = Limits(), Grants()  # frozen: shared by every sandbox
MALLOC = Function("malloc", Signature((Prim.ULONG,), Ptr(), ("size",)))
FREE = Function("free", Signature((Ptr(),), Prim.VOID, ("ptr",)))


_CALL_FREE = ("sb", "raw", "conv", "lo", "hi", "acquire", "release", "busy", "escaped", "name",
              "origin", "Tainted", "lift", "arity")


def _param_shape(t: CType) -> str:
    """How a generated caller checks a parameter: i(nt) inline, c(onverter), p(ointer)."""
    if isinstance(t, (Ptr, FuncPtr)):
        return "p"
    return "i" if t.is_integer else "c"


def _call_source(shape: tuple[str, ...], plain_result: bool) -> str:
    """Source of a checked caller: usable-check, inline int range checks (the
    converter only on the slow path), lock, raw call, poisoning, tainted result."""
    args = [f"a{i}" for i in range(len(shape))]
    temps = "p" in shape
    lines = ["def fn(*args):",
             f"    if len(args) != {len(shape)}:",
             "        arity(len(args))",
             f"    {', '.join(args)}{',' if len(args) == 1 else ''} = args" if args else "",
             "    if sb._poisoned is not None or sb._closed:",
             "        sb._check_usable()",
             "    if sb._borrowed:",
             "        sb._release_borrowed()"]
    indent = "    "
    if temps:  # data copied in for the call lives in the scratch area, or in temps
        lines += ["    temps = []", "    mark = sb._scratch_top", "    try:"]
        indent = "        "
    for i, kind in enumerate(shape):
        if kind == "i":
            lines.append(f"{indent}if type(a{i}) is not int or not lo[{i}] <= a{i} <= hi[{i}]:")
            lines.append(f"{indent}    a{i} = conv[{i}](a{i}, None)")
        else:
            lines.append(f"{indent}a{i} = conv[{i}](a{i}, {'temps' if kind == 'p' else 'None'})")
    lines += [f"{indent}if not acquire(False):",
              f"{indent}    busy()",
              f"{indent}try:",
              f"{indent}    r = raw({', '.join(args)})",
              f"{indent}except BaseException as exc:",
              f"{indent}    raise escaped(name, exc) from None",
              f"{indent}finally:",
              f"{indent}    release()",
              f"{indent}return {'Tainted(r, origin)' if plain_result else 'lift(r)'}"]
    if temps:
        lines += ["    finally:",
                  "        sb._scratch_top = mark",
                  "        for t in temps:",
                  "            t.free()"]
    return "\n".join(lines)


_CALLBACK_FREE = ("sb", "call", "lifts", "max_depth", "too_deep", "poisoned", "finish")


def _callback_source(arity: int, has_result: bool) -> str:
    """Source of a callback target: depth limit, arguments lifted to tainted values
    (straight-line, no per-call loop), poison check, result conversion."""
    args = ", ".join(f"a{i}" for i in range(arity))
    lifted = ", ".join(f"lifts[{i}](a{i})" for i in range(arity))
    return "\n".join([
        f"def fn({args}):",
        "    depth = sb._callback_depth",
        "    if depth >= max_depth:",
        "        too_deep(depth)",
        "    sb._callback_depth = depth + 1",
        "    try:",
        f"        value = call({lifted})",
        "    finally:",
        "        sb._callback_depth -= 1",
        "    if sb._poisoned is not None:",
        "        poisoned()",
        "    return finish(value)" if has_result else "    return None"])


class Allocation:
    """A block of sandbox memory the host allocated with the sandbox's ``malloc``."""

    __slots__ = ("_sandbox", "address", "size")

    def __init__(self, sandbox: Sandbox, address: int, size: int) -> None:
        self._sandbox = sandbox
        self.address = address
        self.size = size

    def address_in(self, sandbox: Sandbox, where: str) -> int:
        if sandbox is not self._sandbox:
            raise ArgumentError(f"{where}: allocation belongs to another sandbox")
        if not self.address:
            raise ArgumentError(f"{where}: allocation was already freed")
        return self.address

    def write(self, data: bytes | bytearray | memoryview, offset: int = 0) -> None:
        """Copy ``data`` in at ``offset`` (must fit inside the allocation)."""
        if offset < 0 or offset + len(data) > self.size:
            raise ArgumentError(f"write of {len(data)} bytes at offset {offset} does not fit "
                                f"an allocation of {self.size} bytes")
        self._sandbox.memory.write(self._live() + offset, data)

    def read(self, length: int | None = None, offset: int = 0) -> Tainted[bytes]:
        """Copy bytes out; the sandbox may have written them, so they are tainted."""
        n = self.size - offset if length is None else length
        if offset < 0 or n < 0 or offset + n > self.size:
            raise ArgumentError(f"read of {n} bytes at offset {offset} does not fit an "
                                f"allocation of {self.size} bytes")
        return Tainted(self._sandbox.memory.read(self._live() + offset, n), "allocation")

    def read_int(self, t: Prim, offset: int = 0) -> Tainted[int]:
        """An integer of C type ``t`` stored at ``offset`` (out-parameters)."""
        size = self._sandbox.model.size(t)
        raw = int.from_bytes(self.read(size, offset).unverified_safe_because(
            "re-tainted below"), "little", signed=False)
        return Tainted(truncate_to(t, self._sandbox.model, raw), "allocation")

    def write_int(self, t: Prim, value: int, offset: int = 0) -> None:
        model = self._sandbox.model
        conv = converter(t, self._sandbox, "write_int")
        checked = conv(value, [])
        assert isinstance(checked, int)
        self.write((checked & ((1 << 8 * model.size(t)) - 1)).to_bytes(model.size(t), "little"),
                   offset)

    def _live(self) -> int:
        if not self.address:
            raise ArgumentError("allocation was already freed")
        return self.address

    def free(self) -> None:
        if self.address:
            address, self.address = self.address, 0
            self._sandbox._free_allocation(self, address)

    def __enter__(self) -> Allocation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.free()

    def __repr__(self) -> str:
        return f"Allocation(0x{self.address:x}, {self.size} bytes)"


class CallbackHandle:
    """A Python callable made callable from the sandbox as a C function pointer."""

    __slots__ = ("_sandbox", "address", "sig", "name", "shape")

    def __init__(self, sandbox: Sandbox, address: int, sig: Signature, name: str) -> None:
        self._sandbox = sandbox
        self.address = address
        self.sig = sig
        self.name = name
        self.shape = wasm_shape(sig)  # compared on every call that passes it

    def address_in(self, sandbox: Sandbox, where: str) -> int:
        if sandbox is not self._sandbox:
            raise ArgumentError(f"{where}: callback {self.name} belongs to another sandbox")
        if not self.address:
            raise ArgumentError(f"{where}: callback {self.name} was unregistered")
        return self.address

    def unregister(self) -> None:
        """Remove the callback; a later call to it from the sandbox traps."""
        if self.address:
            address, self.address = self.address, 0
            self._sandbox._remove_callback(self, address)


class Sandbox:
    """One isolated instance of a library on a backend.

    Use as a context manager, or call ``close()``. After a trap (or a callback that
    raised) the sandbox is poisoned: every later use raises ``PoisonedError``.
    """

    def __init__(self, library: Library, backend: str = "wasmtime", *,
                 limits: Limits | None = None, grants: Grants | None = None) -> None:
        self.library = library
        self.backend = get_backend(backend)
        self.model = self.backend.model
        self.limits = limits or DEFAULT_LIMITS
        self.grants = grants or DEFAULT_GRANTS
        self._poisoned: str | None = None
        self._closed = False
        self._handles: HandleTable | None = None
        self._callback_depth = 0
        self._allocations: dict[int, Allocation] = {}
        self._callbacks: dict[int, CallbackHandle] = {}
        self._bound: dict[str, Callable[..., Any]] = {}
        self._raw_cache: dict[str, Callable[..., Any]] = {}
        self._borrowed: list[memoryview] = []  # see borrow
        self._scratch: Allocation | None = None  # see temp_copy
        self._scratch_top = 0
        self._lock = threading.RLock()
        try:
            self._instance: Instance = self.backend.instantiate(library, self.limits,
                                                                self.grants)
        except (TrapError, ResourceError) as exc:
            if str(exc).startswith(f"{library.name}:"):
                raise
            where = f"{library.name}: starting a sandbox (instance and library start-up)"
            raise (TrapError(f"{where}: {exc}", exc.kind) if isinstance(exc, TrapError)
                   else ResourceError(f"{where}: {exc} ({self.limits})")) from None
        self.memory = Memory(self._instance.memory, f"{library.name}[{backend}]")

    # -- lifecycle ---------------------------------------------------------------
    @property
    def isolated(self) -> bool:
        return self.backend.isolated

    @property
    def poisoned(self) -> str | None:
        """Why the sandbox is unusable, or None."""
        return self._poisoned

    def _check_usable(self) -> None:
        if self._poisoned is not None:
            raise PoisonedError(f"{self.library.name} sandbox is poisoned ({self._poisoned}); "
                                "create a new sandbox")
        if self._closed:
            raise PoisonedError(f"{self.library.name} sandbox is closed")

    def poison(self, reason: str) -> None:
        if self._poisoned is None:
            self._poisoned = reason

    @property
    def handles(self) -> HandleTable:
        """This sandbox's table of host objects passed in as opaque handles."""
        if self._handles is None:
            self._handles = HandleTable(self)
        return self._handles

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._borrowed:
                self._release_borrowed()
            for handle in self._callbacks.values():
                handle.address = 0
            for alloc in self._allocations.values():
                alloc.address = 0
            self._callbacks.clear()
            self._allocations.clear()
            self._bound.clear()
            if self._handles is not None:
                self._handles.close()
            self.memory.close()  # pointers into it may outlive the instance
            self._instance.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- calls -------------------------------------------------------------------
    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            fn = self.library.function(name)
        except KeyError:
            raise AttributeError(f"{self.library.name} has no function {name!r}") from None
        return self.bind(fn)

    def call(self, name: str, *args: object) -> Any:
        """Call exported function ``name``; the result is tainted."""
        return self.bind(self.library.function(name))(*args)

    def bind(self, fn: Function) -> Callable[..., Any]:
        """A fast callable for ``fn`` (memoized per sandbox)."""
        bound = self._bound.get(fn.name)
        if bound is None:
            self._check_usable()
            bound = self._bound[fn.name] = self._make_caller(fn)
        return bound

    def _make_caller(self, fn: Function) -> Callable[..., Any]:
        sig = fn.sig
        where = [f"{fn.name}(): argument {i + 1} '{sig.name_of(i)}'"
                 for i in range(len(sig.params))]
        shape = tuple(_param_shape(t) for t in sig.params)
        plain_result = (isinstance(sig.result, Prim) and sig.result.is_integer
                        and sig.result is not Prim.BOOL and self.model.size(sig.result) >= 4)
        def arity(given: int) -> None:
            raise ArgumentError(f"{fn.name}() takes {len(shape)} argument(s), got {given}")

        make = factory(("sandbox-call", shape, plain_result), _CALL_FREE,
                       lambda: _call_source(shape, plain_result))
        bounds = [self.model.int_range(t) if s == "i" else (0, 0)
                  for t, s in zip(sig.params, shape)]
        call: Callable[..., Any] = make(
            self, self._instance.function(fn), [converter(t, self, w) for t, w in
                                                zip(sig.params, where)],
            [lo for lo, _ in bounds], [hi for _, hi in bounds], self._lock.acquire,
            self._lock.release, self._busy, self._escaped, fn.name, f"{fn.name}() result",
            Tainted, lifter(sig.result, self, f"{fn.name}() result"), arity)
        call.__name__ = fn.name
        call.__qualname__ = f"{self.library.name}.{fn.name}"
        return call

    def _busy(self) -> None:
        raise SandboxError(f"{self.library.name} sandbox is running a call in another thread; "
                           "use one sandbox per thread")

    def _escaped(self, name: str, exc: BaseException) -> BaseException:
        """Poison the sandbox for whatever escaped a call; the exception to raise.
        What already poisoned it (in a nested call made by a callback) passes through
        the outer calls unchanged."""
        if self._poisoned is not None:
            return exc
        if isinstance(exc, TrapError):
            self.poison(f"trap in {name}(): {exc}")
            return TrapError(f"{name}(): {exc}", exc.kind)
        if isinstance(exc, ResourceError):
            self.poison(f"limit reached in {name}(): {exc}")
            return ResourceError(f"{name}(): {exc} ({self.limits})")
        self.poison(f"{type(exc).__name__} escaped {name}(): {short_repr(str(exc))}")
        exc.add_note(f"sandboxlib: raised while the {self.library.name} sandbox ran {name}(); "
                     "the sandbox is poisoned")
        return exc

    def _guarded(self, name: str, raw: Callable[..., Any], args: list[Any]) -> Any:
        """Run a raw call with the same locking and poisoning as generated callers."""
        self._check_usable()
        if self._borrowed:
            self._release_borrowed()
        if not self._lock.acquire(blocking=False):
            self._busy()
        try:
            return raw(*args)
        except BaseException as exc:
            raise self._escaped(name, exc) from None
        finally:
            self._lock.release()

    def _raw(self, fn: Function) -> Callable[..., Any]:
        """The backend's raw callable for ``fn`` (memoized; used for malloc/free)."""
        raw = self._raw_cache.get(fn.name)
        if raw is None:
            raw = self._raw_cache[fn.name] = self._instance.function(fn)
        return raw

    # -- memory ------------------------------------------------------------------
    def alloc(self, size: int) -> Allocation:
        """Allocate ``size`` bytes inside the sandbox (freed by ``free()`` or on close)."""
        if type(size) is not int or size < 0:
            raise ArgumentError(f"alloc(): size must be a non-negative int, got {size!r}")
        lo, hi = self.model.int_range(Prim.ULONG)
        if size > hi:
            raise ResourceError(f"alloc(): {size} bytes cannot exist in a {self.model.name} sandbox")
        if self.isolated and size > self.limits.memory_bytes:
            raise ResourceError(f"alloc(): {size} bytes exceed the memory limit of "
                                f"{self.limits.memory_bytes} bytes")
        address = self._guarded("malloc", self._raw(MALLOC), [max(size, 1)])
        if not address:
            raise ResourceError(f"alloc(): the sandbox could not allocate {size} bytes "
                                f"(memory limit {self.limits.memory_bytes} bytes)")
        if self.isolated:  # a hostile malloc must return a span inside memory
            try:
                self.memory.view(address, size)
            except BoundsError as exc:
                raise BoundsError(f"alloc(): the sandbox's malloc({size}) returned "
                                  f"0x{address:x}: {exc}") from None
        alloc = Allocation(self, address, size)
        self._allocations[address] = alloc
        return alloc

    def borrow(self, pointer: TaintedPtr | Allocation | int, length: int) -> Tainted[memoryview]:
        """A zero-copy view of ``length`` bytes of sandbox memory (bounds-checked),
        valid until the next call into this sandbox: it is released then, so using it
        afterwards raises ``ValueError``. Slices taken from it are not released with
        it; copy (``bytes(view)``) what must outlive the next call."""
        if isinstance(pointer, TaintedPtr):
            if not pointer.belongs_to(self.memory):
                raise TaintError(f"borrow(): {pointer!r} belongs to another sandbox")
            address = pointer.unverified_safe_because("bounds-checked by the view")
        elif isinstance(pointer, Allocation):
            address = pointer.address_in(self, "borrow()")
        else:
            address = pointer
        self._check_usable()
        view = self.memory.view(address, length)
        self._borrowed.append(view)
        return Tainted(view, f"borrow(0x{address:x}, {length})")

    def _release_borrowed(self) -> None:
        views, self._borrowed = self._borrowed, []
        for view in views:
            view.release()

    def temp_copy(self, data: bytes, temps: Temps) -> int:
        """Copy ``data`` + NUL in for the duration of one call: into the sandbox's
        scratch area (reset when the call returns; nested calls stack on top), or
        into an allocation added to ``temps`` when it does not fit."""
        need = (len(data) + 8) & ~7
        top = self._scratch_top
        if top + need > SCRATCH_SIZE:
            temp = self.copy_in(data, nul_terminate=True)
            temps.append(temp)
            return temp.address
        if self._scratch is None:
            self._scratch = self.alloc(SCRATCH_SIZE)
        address = self._scratch.address + top
        self.memory.write(address, data + b"\0" if len(data) < 256 else data)
        if len(data) >= 256:
            self.memory.write(address + len(data), b"\0")
        self._scratch_top = top + need
        return address

    def copy_in(self, data: bytes | bytearray | memoryview, nul_terminate: bool = False) -> Allocation:
        """Copy ``data`` into a new allocation (one copy, no intermediate)."""
        length = len(data) + (1 if nul_terminate else 0)
        alloc = self.alloc(length)
        self.memory.write(alloc.address, data)
        if nul_terminate:
            self.memory.write(alloc.address + len(data), b"\0")
        return alloc

    def _free_allocation(self, alloc: Allocation, address: int) -> None:
        if self._allocations.get(address) is alloc:
            del self._allocations[address]
            if self._poisoned is None and not self._closed:
                self._guarded("free", self._raw(FREE), [address])

    def free(self, pointer: TaintedPtr) -> None:
        """Free a pointer the sandbox returned, with the sandbox's own ``free``."""
        if not isinstance(pointer, TaintedPtr) or not pointer.belongs_to(self.memory):
            raise TaintError(f"free(): {pointer!r} is not a pointer from this sandbox")
        self._check_usable()
        self._guarded("free", self._raw(FREE), [pointer.unverified_safe_because(
            "the sandbox's own free() receives its own pointer")])

    # -- callbacks ---------------------------------------------------------------
    def callback(self, fn: Callable[..., Any], sig: Signature, name: str = "") -> CallbackHandle:
        """Register ``fn`` as a C function of ``sig``; its arguments arrive tainted
        and its return value is range-checked for the C result type."""
        self._check_usable()
        label = name or getattr(fn, "__name__", "callback")
        where = f"callback {label}"
        lifts = [lifter(t, self, f"{where} argument {i + 1} '{sig.name_of(i)}'")
                 for i, t in enumerate(sig.params)]
        result = None if sig.result is Prim.VOID else converter(
            sig.result, self, f"{where} return value")

        def too_deep(depth: int) -> None:
            raise ResourceError(f"{where}: the sandbox called back {depth} levels deep")

        def poisoned() -> None:  # a nested call failed and the callback went on
            raise PoisonedError(f"{where}: the sandbox was poisoned during the callback "
                                f"({self._poisoned})")

        def finish(value: Any) -> Any:
            assert result is not None
            temps: Temps = []
            out = result(value, temps)
            if temps:
                for t in temps:
                    t.free()
                raise ArgumentError(f"{where} return value: data cannot be returned as a "
                                    "pointer (it would be freed); return a sandbox pointer")
            return out

        arity = len(sig.params)
        make = factory(("sandbox-callback", arity, result is not None), _CALLBACK_FREE,
                       lambda: _callback_source(arity, result is not None))
        target = make(self, fn, lifts, self.limits.max_callback_depth, too_deep, poisoned,
                      finish)
        address = self._instance.add_callback(sig, target)
        handle = CallbackHandle(self, address, sig, label)
        self._callbacks[address] = handle
        return handle

    def _remove_callback(self, handle: CallbackHandle, address: int) -> None:
        if self._callbacks.get(address) is handle:
            del self._callbacks[address]
            if not self._closed:
                self._instance.remove_callback(address)

