"""The backend-neutral sandbox: calls, memory, allocations, callbacks, poisoning."""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, NoReturn, TypeVar

from ..abi import FREE, MALLOC, FuncPtr, Function, Prim, Ptr, Signature
from ..backends import get_backend
from ..backends.base import Instance, LibraryModule
from ..backends.memory import Memory
from ..backends.room import PAGE
from ..config import Grants, Limits
from ..errors import (ArgumentError, BoundsError, ClosedError, Interrupted, PoisonedError,
                      ResourceError, SandboxError, TaintError, TrapError)
from ..taint import Tainted, TaintedPtr, short_repr
from .._boundary import Heap
from .callers import Callback, Gate, callback, caller, plan
from .handles import HandleTable
from .marshal import converter
from .objects import Allocation, CallbackHandle, Temps
from .compiled import lift_spec
from .structs import Cell, Struct
from .scalars import Converter
from .backend_name import resolve_backend
from .snapshot import Snapshot, changed_chunks, module_of
from .strict import POISON, QUARANTINE_BYTES, strict

T = TypeVar("T")
SCRATCH_SIZE = 4096  # bytes of call arguments copied in without a malloc
DEFAULT_LIMITS, DEFAULT_GRANTS = Limits(), Grants()  # frozen: shared by every sandbox
UNPICKLABLE = ("cannot pickle {what}: a live sandbox stays in its process; to open one in "
               "another process, send a sandboxlib.workers.Opener (picklable) instead")


class Sandbox:
    """One isolated instance of a library on a backend.

    Use as a context manager, or call ``close()``; a closed sandbox raises
    ``ClosedError`` (a ``PoisonedError`` and a ``ValueError``). After a trap (or a
    callback that raised) the sandbox is poisoned: every later use raises
    ``PoisonedError``.
    """

    def __init__(self, library: LibraryModule, backend: str = "wasmtime", *,
                 limits: Limits | None = None, grants: Grants | None = None,
                 snapshot: Snapshot[object] | None = None) -> None:
        self.library = library
        self.backend = get_backend(backend)
        self.model = self.backend.model
        self.limits = limits or DEFAULT_LIMITS
        self.grants = grants or DEFAULT_GRANTS
        self._poisoned: str | None = None
        self._closed = False
        self._handles: HandleTable | None = None
        self._callbacks: dict[int, CallbackHandle] = {}
        self._targets: dict[int, Callback] = {}  # what each callback runs
        self._bound: dict[Function, Callable[..., Any]] = {}
        self._borrowed: list[memoryview] = []  # see borrow
        self._scratch: Allocation | None = None  # see temp_copy
        self._strict = strict()  # see runtime/strict.py
        # dead temporaries, poisoned (strict mode; made at the first: a deque is 0.6 KiB)
        self._quarantine: deque[Allocation] | None = None
        self._quarantined = 0  # their bytes
        self._converters: dict[Function, list[Converter]] = {}  # see _convert
        self._gate = Gate()  # what every call checks first, and the call lock
        try:
            self._instance: Instance = self.backend.instantiate(library, self.limits,
                                                                self.grants)
        except (TrapError, ResourceError) as exc:  # instantiation or the library's start-up
            where = f"{library.name}: starting a sandbox (its instance and start-up)"
            raise (TrapError(f"{where}: {exc}", exc.kind) if isinstance(exc, TrapError)
                   else ResourceError(f"{where}: {exc} ({self.limits})")) from None
        self.memory = Memory(self._instance.memory, f"{library.name}[{backend}]")
        self._isolated = self.backend.isolated
        # the largest alloc() that may succeed
        self._alloc_max = min(self.model.int_range(Prim.ULONG)[1],
                              self.limits.memory_bytes if self._isolated else 1 << 64)
        # alloc() and out(), and freeing what they made, in compiled code (with the
        # reuse of small blocks: sandboxlib/_boundary_heap.c)
        self._heap = Heap(self._gate, self.memory, MALLOC, FREE, self._alloc_max)
        if snapshot is not None:
            try:
                self._restore(snapshot)
            except BaseException:
                self.close()
                raise

    # -- lifecycle ---------------------------------------------------------------
    @property
    def isolated(self) -> bool:
        return self.backend.isolated

    @property
    def label(self) -> str:
        return self.library.name

    @property
    def poisoned(self) -> str | None:
        """Why the sandbox is unusable, or None."""
        return self._poisoned

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"{self.library.name} sandbox is closed")

    def _check_usable(self) -> None:
        self._check_open()
        if self._poisoned is not None:
            raise PoisonedError(f"{self.library.name} sandbox is poisoned ({self._poisoned}); "
                                "create a new sandbox")

    def interrupt(self) -> bool:
        """Stop the sandbox's running call, from another thread (an asyncio server
        enforcing its own deadline): the call raises ``Interrupted`` at its next loop
        iteration or call, and the sandbox is poisoned. False if no call was running (or
        the sandbox is closed). The native backend cannot stop one: ``SandboxError``."""
        return not self._closed and self._instance.interrupt()

    def poison(self, reason: str) -> None:
        if self._poisoned is None:
            self._poisoned = reason
            self._gate.unusable = True

    @property
    def handles(self) -> HandleTable:
        """This sandbox's table of host objects passed in as opaque handles."""
        if self._handles is None:
            self._handles = HandleTable(self)
        return self._handles

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._gate.unusable = True
        if self._borrowed:
            self._release_borrowed()
        if self._callbacks:
            for handle in self._callbacks.values():
                handle.address = 0
            for target in self._targets.values():
                target.remove()
            self._callbacks.clear()
            self._targets.clear()
        self._heap.close()
        if self._bound:
            for fn in self._bound:
                self.__dict__.pop(fn.name, None)
            self._bound.clear()
        self._converters.clear()
        if self._handles is not None:
            self._handles.close()
        self.memory.close()  # pointers into it may outlive the instance
        self._instance.close()

    @property
    def _state(self) -> str:
        """``"open"``, ``"closed"`` or ``"poisoned (why)"`` (private: a public name
        would hide a C function of that name)."""
        if self._closed:
            return "closed"
        return "open" if self._poisoned is None else f"poisoned ({self._poisoned})"

    def __repr__(self) -> str:
        return f"<Sandbox {self.library.name} on {self.backend.name}: {self._state}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError(UNPICKLABLE.format(what="a Sandbox"))

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
        bound = self.__dict__[name] = self.bind(fn)  # found directly from now on
        return bound

    def bind(self, fn: Function) -> Callable[..., Any]:
        """A fast callable for ``fn`` (memoized per sandbox)."""
        bound = self._bound.get(fn)
        if bound is None:
            self._check_usable()
            bound = self._bound[fn] = self._make_caller(fn)
        return bound

    def _make_caller(self, fn: Function) -> Callable[..., Any]:
        return caller(self._gate, plan(fn, self.model), self, self.memory,
                      self._instance.entry(fn))

    def _convert(self, fn: Function, index: int, value: object, temps: Temps | None) -> int | float:
        """Argument ``index`` of ``fn`` as a machine value, or the error naming it (what
        the compiled caller does not take as it is: see runtime/callers.py)."""
        converters = self._converters.get(fn)
        if converters is None:
            sig = fn.sig
            converters = self._converters[fn] = [
                converter(t, self, f"{fn.name}(): argument {i + 1} '{sig.name_of(i)}'")
                for i, t in enumerate(sig.params)]
        return converters[index](value, temps if temps is not None else [])

    def _free_temps(self, temps: Temps) -> None:
        """Free the copies a call made that did not fit the scratch area; in strict
        mode, poison every copy and keep it allocated a while (so no later copy lands
        where a pointer the library kept still points)."""
        if not self._strict:
            for t in temps:
                t.free()
            return
        if self._quarantine is None:
            self._quarantine = deque()
        for t in temps:
            self.memory.write(t.address, bytes([POISON]) * t.size)
            self._quarantine.append(t)
            self._quarantined += t.size
        while self._quarantined > QUARANTINE_BYTES:
            oldest = self._quarantine.popleft()
            self._quarantined -= oldest.size
            oldest.free()

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
        if isinstance(exc, Interrupted):
            self.poison(f"{name}() was stopped: {exc}")
            return Interrupted(f"{name}(): {exc}")
        self.poison(f"{type(exc).__name__} escaped {name}(): {short_repr(str(exc))}")
        exc.add_note(f"sandboxlib: raised while the {self.library.name} sandbox ran {name}(); "
                     "the sandbox is poisoned")
        return exc

    # -- snapshots (runtime/snapshot.py) -------------------------------------------
    def snapshot(self) -> Snapshot[Sandbox]:
        """This sandbox's state now, to start new ones from (``runtime/snapshot.py``)."""
        return self._snapshot(lambda sandbox: sandbox)

    def _snapshot(self, kind: Callable[[Sandbox], T]) -> Snapshot[T]:
        """A snapshot of this sandbox whose new sandboxes ``kind`` wraps (in a proxy)."""
        name = f"{self.library.name}: snapshot"
        self._check_usable()
        if not self.isolated:
            raise SandboxError(f"{name}: the native backend's memory is the host's, not a "
                               "sandbox's to copy")
        if self._gate.depth:
            raise SandboxError(f"{name}: the sandbox is running a call")
        if self.grants != Grants():
            raise SandboxError(f"{name}: the sandbox was granted {self.grants}; a snapshot "
                               "would hand what it read to sandboxes without the grant")
        if self._callbacks or (self._handles is not None and len(self._handles)):
            raise SandboxError(f"{name}: the sandbox holds callbacks or handles, which are "
                               "the host's and not copied")
        module = module_of(self.library, self.grants, self.limits)
        now = self.memory.whole()
        with Sandbox(self.library, self.backend.name, limits=self.limits) as base:
            chunks = changed_chunks(now, base.memory.whole())

        def start(snapshot: Snapshot[Any], backend: str | None, limits: Limits | None) -> T:
            return kind(Sandbox(snapshot.library, resolve_backend(backend or snapshot.backend),
                                limits=limits or snapshot.limits, snapshot=snapshot))
        return Snapshot(start, self.library, self.backend.name, self.limits, module,
                        len(now) // PAGE, chunks)

    def _restore(self, snapshot: Snapshot[object]) -> None:
        """Put this new sandbox in ``snapshot``'s state."""
        name = f"{self.library.name}: sandbox from a snapshot"
        if snapshot.library is not self.library or not self.isolated:
            raise SandboxError(f"{name}: a snapshot starts sandboxes of its own library on "
                               "an isolating backend")
        same = ((self.limits is snapshot.limits or self.limits == snapshot.limits)
                and (self.grants is DEFAULT_GRANTS or self.grants == DEFAULT_GRANTS))
        if not same and module_of(self.library, self.grants, self.limits) != snapshot.module:
            raise SandboxError(f"{name}: these limits run another module than the "
                               f"snapshot's ({snapshot.module.name}); give the limits it "
                               "was taken with")
        grow = snapshot.pages - self.memory.size // PAGE
        if grow < 0 or (grow and not self._instance.memory.grow(grow)):
            raise ResourceError(f"{name}: its {snapshot.pages} pages of memory do not fit "
                                f"({self.limits})")
        write = self.memory.write
        for at, data in snapshot.chunks:
            write(at, data)

    # -- memory ------------------------------------------------------------------
    def out(self, ctype: Prim | Ptr | FuncPtr, initial: object = None) -> Cell[Any]:
        """A zeroed C value of type ``ctype`` for a function to write through a pointer
        (see ``Cell``); ``initial`` is stored first for an in/out-parameter."""
        cell: Cell[Any] = self._heap.out(self, ctype, initial)
        return cell

    def alloc(self, size: int) -> Allocation:
        """Allocate ``size`` bytes inside the sandbox (freed by ``free()`` or on close)."""
        alloc: Allocation = self._heap.alloc(self, size)
        return alloc

    def _cell_kind(self, ctype: object) -> tuple[int, str, str, str, int, bool]:
        """What ``out(ctype)`` needs: its size, and the origin and lift of its value."""
        if not isinstance(ctype, (Prim, Ptr, FuncPtr)) or ctype is Prim.VOID:
            raise ArgumentError(f"out(): expected a C scalar or pointer type, got {ctype!r}")
        return self.model.size(ctype), f"out({ctype})", *lift_spec(ctype, self.model)

    def _refuse_size(self, size: object) -> NoReturn:
        """Why ``alloc(size)`` cannot be served."""
        if isinstance(size, type) and issubclass(size, Struct):
            raise ArgumentError(f"alloc(): size must be a non-negative int, got the struct "
                                f"{size.__name__}: lib.new({size.__name__}) allocates one")
        if type(size) is not int or size < 0:
            raise ArgumentError(f"alloc(): size must be a non-negative int, got {size!r}")
        if size > self.model.int_range(Prim.ULONG)[1]:
            raise ResourceError(f"alloc(): {size} bytes cannot exist in a "
                                f"{self.model.name} sandbox")
        raise ResourceError(f"alloc(): {size} bytes exceed the memory limit of "
                            f"{self.limits.memory_bytes} bytes")

    def _refuse_block(self, where: str, size: int, address: int) -> NoReturn:
        """What is wrong with the block the sandbox's malloc returned (``address``)."""
        if not address:
            raise ResourceError(f"{where}: the sandbox could not allocate {size} bytes "
                                f"(memory limit {self.limits.memory_bytes} bytes)")
        try:  # a hostile malloc must return a span inside memory
            self.memory.read(address, size or 1)
        except BoundsError as exc:
            raise BoundsError(f"{where}: the sandbox's malloc({size}) returned "
                              f"0x{address:x}: {exc}") from None
        raise BoundsError(f"{where}: the sandbox's malloc({size}) returned 0x{address:x}, "
                          "outside its memory")

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
        self._gate.borrowed = True
        return Tainted(view, f"borrow(0x{address:x}, {length})")

    def _release_borrowed(self) -> None:
        views, self._borrowed = self._borrowed, []
        self._gate.borrowed = False
        for view in views:
            view.release()

    def temp_copy(self, data: bytes, temps: Temps) -> int:
        """Copy ``data`` + NUL in for the duration of one call: into the sandbox's
        scratch area (the call gives back what it took when it returns; nested calls
        stack on top), or into an allocation added to ``temps`` when it does not fit
        or the sandbox is strict (``runtime/strict.py``).
        (The compiled caller does the same for bytes, str and bytearray that fit.)"""
        need = (len(data) + 8) & ~7
        gate = self._gate
        top = gate.scratch_top
        if top + need > SCRATCH_SIZE or self._strict:  # strict: never the scratch area
            temp = self.copy_in(data, nul_terminate=True)
            temps.append(temp)
            return temp.address
        if self._scratch is None:
            self._scratch = self.alloc(SCRATCH_SIZE)
            gate.scratch, gate.scratch_size = self._scratch.address, SCRATCH_SIZE
        address = self._scratch.address + top
        self.memory.write(address, data + b"\0" if len(data) < 256 else data)
        if len(data) >= 256:
            self.memory.write(address + len(data), b"\0")
        gate.scratch_top = top + need
        return address

    def copy_in(self, data: bytes | bytearray | memoryview,
                nul_terminate: bool = False) -> Allocation:
        """Copy ``data`` into a new allocation (one copy, no intermediate)."""
        length = len(data) + (1 if nul_terminate else 0)
        alloc = self.alloc(length)
        self.memory.write(alloc.address, data)
        if nul_terminate:
            self.memory.write(alloc.address + len(data), b"\0")
        return alloc

    def free(self, pointer: TaintedPtr) -> None:
        """Free a pointer the sandbox returned, with the sandbox's own ``free``."""
        if not isinstance(pointer, TaintedPtr) or not pointer.belongs_to(self.memory):
            raise TaintError(f"free(): {pointer!r} is not a pointer from this sandbox")
        self._check_usable()
        self.bind(FREE)(pointer)

    # -- callbacks ---------------------------------------------------------------
    def callback(self, fn: Callable[..., Any], sig: Signature, name: str = "") -> CallbackHandle:
        """Register ``fn`` as a C function of ``sig``; its arguments arrive tainted
        and its return value is range-checked for the C result type."""
        self._check_usable()
        label = name or getattr(fn, "__name__", "callback")
        where = f"callback {label}"
        target = callback(self._gate, fn, sig, self.model, self.memory,
                          _CallbackChecks(self, sig, where), where,
                          self.limits.max_callback_depth)
        address = self._instance.add_callback(sig, target)
        handle = CallbackHandle(self, address, sig, label)
        self._callbacks[address] = handle
        self._targets[address] = target
        return handle

    def _remove_callback(self, handle: CallbackHandle, address: int) -> None:
        if self._callbacks.get(address) is handle:
            del self._callbacks[address]
            self._targets.pop(address).remove()
            if not self._closed:
                self._instance.remove_callback(address)



class _CallbackChecks:
    """What a compiled callback target asks Python for: its errors, and converting a
    result off the fast path (the converter refuses what C cannot receive)."""

    __slots__ = ("_sandbox", "_where", "_result")

    def __init__(self, sandbox: Sandbox, sig: Signature, where: str) -> None:
        self._sandbox = sandbox
        self._where = where
        self._result = None if sig.result is Prim.VOID else converter(
            sig.result, sandbox, f"{where} return value")

    def too_deep(self, depth: int) -> None:
        raise ResourceError(f"{self._where}: the sandbox called back {depth} levels deep")

    def poisoned(self) -> None:
        """Raise if a nested call poisoned the sandbox while the callback ran."""
        if self._sandbox.poisoned is not None:
            raise PoisonedError(f"{self._where}: the sandbox was poisoned during the callback "
                                f"({self._sandbox.poisoned})")

    def finish(self, value: object) -> int | float:
        assert self._result is not None
        temps: Temps = []
        out = self._result(value, temps)
        if temps:
            for t in temps:
                t.free()
            raise ArgumentError(f"{self._where} return value: data cannot be returned as a "
                                "pointer (it would be freed); return a sandbox pointer")
        return out
