"""A sandbox instance on wasmtime, with a fast call path through cffi."""

from __future__ import annotations

import atexit
import math
import weakref
from dataclasses import dataclass, field
from typing import Any, cast

import wasmtime

from ...abi import INITIALIZE, WASM32, Function, Prim, Signature, wasm_valtype
from ...errors import Interrupted, ResourceError, SandboxError, TrapError, TrapKind
from ...toolchain.wasmbinary import FuncType, has_tags
from ..._boundary import CLOCK_TICK_SECONDS, REGION_UNIFORM, start_clock
from ..memory import RegionAccess
from ..stopping import raise_signalled, refuse_uninterruptible, watch_signals
from ..room import PAGE, limit_pages, no_room
from ..base import CallbackTarget, LibraryModule, RawEntry, check_export, table_full
from ...config import Grants, Limits
from . import _capi
from ._capi import EXTERN_FUNC, EXTERN_MEMORY, ffi, lib
from .adapter import CALL, REGION, TRAMPOLINE, Entry, MemoryRef, Store
from .adapter import expect as expect_slot
from .engine import EngineKind, compiled_module, engine, instance_pre


# wasmtime keeps a thrown exception (C's longjmp) in its store's GC heap, a memory of its
# own beside the sandbox's: made only for a module with an exception tag, and bounded
# (a longjmp allocates a few bytes, freed when caught; past this a throw traps).
GC_HEAP_BYTES = 1 << 20
UNREGISTERED = TrapKind.UNREGISTERED_CALLBACK.value  # in the trampoline's trap message
UNCAUGHT = "thrown Wasm exception"  # wasmtime's trap of an exception leaving the call
_VALTYPES = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64(),
             "f32": wasmtime.ValType.f32(), "f64": wasmtime.ValType.f64()}



@dataclass
class LoadedModule:
    """A compiled module, its pre-linked form, and its export signatures; ``engine_ptr``
    and ``pre_ptr`` are their C pointers for cffi (kept alive by this object and the
    engine cache)."""

    kind: EngineKind
    module: wasmtime.Module
    pre: wasmtime.InstancePre
    func_types: dict[str, FuncType] = field(default_factory=dict)
    checked: set[Function] = field(default_factory=set)  # exports found as declared
    engine_ptr: Any = field(init=False)
    pre_ptr: Any = field(init=False)
    imports: bool = field(init=False)  # any (WASI): a store needs a WASI context then
    tags: bool = False  # an exception tag (setjmp/longjmp): a store needs a GC heap then

    def __post_init__(self) -> None:
        self.engine_ptr = _capi.address_of(engine(self.kind).ptr())
        self.pre_ptr = _capi.address_of(self.pre.ptr())
        self.imports = bool(self.module.imports)
        for export in self.module.exports:
            ty = export.type
            if isinstance(ty, wasmtime.FuncType):
                self.func_types[export.name] = FuncType(tuple(str(p) for p in ty.params),
                                                        tuple(str(r) for r in ty.results))

    def check(self, fn: Function) -> None:
        if fn not in self.checked:
            check_export(fn, self.func_types.get(fn.name))
            self.checked.add(fn)


class WasmtimeMemory:
    __slots__ = ("_ctx", "_mem", "_store", "_ref")

    def __init__(self, ctx: Any, mem: Any, store: Any, calls: Store) -> None:
        self._ctx = ctx
        self._mem = mem
        self._store = store
        self._ref = MemoryRef(calls, ffi.buffer(mem)[:])

    def region(self) -> tuple[int, int]:
        # _capi declares the data pointer's type as uintptr_t: an int, no cast
        return lib.wasmtime_memory_data(self._ctx, self._mem), lib.wasmtime_memory_data_size(
            self._ctx, self._mem)

    def access(self) -> RegionAccess:
        return RegionAccess(REGION_UNIFORM, REGION, self._ref.address,
                            keep=(self._ref, self._store))

    def grow(self, pages: int) -> bool:
        err = lib.wasmtime_memory_grow(self._ctx, self._mem, pages, ffi.new("uint64_t *"))
        if err:  # the store's limiter refused
            lib.wasmtime_error_delete(err)
            return False
        return True

    def pin(self) -> Any:
        """A ``char *`` at the memory's base that keeps the store (so the memory, which
        never moves: see the engine) alive while it lives."""
        store = self._store
        return ffi.gc(ffi.cast("char *", lib.wasmtime_memory_data(self._ctx, self._mem)),
                      lambda _: store)


class WasmtimeInstance:
    """One store + instance; see ``sandboxlib.backends.base.Instance``.

    The store is created, configured and instantiated through cffi (wasmtime-py's
    ctypes path costs several times more); wasmtime-py only serves the rare table
    operations of callbacks and WASI configurations with directories or variables.
    """

    def __init__(self, loaded: LoadedModule, limits: Limits, grants: Grants) -> None:
        self._loaded = loaded
        self._limits = limits
        raw = lib.wasmtime_store_new(loaded.engine_ptr, _NULL, _NULL)
        if raw == _NULL:
            raise ResourceError("cannot allocate a wasmtime store")
        self._store = ffi.gc(raw, lib.wasmtime_store_delete)
        _live.add(self)
        self._ctx = ctx = lib.wasmtime_store_context(raw)
        self._ctx_address = int(ffi.cast("uintptr_t", ctx))
        if loaded.imports:  # (a module that imports nothing has no use for one)
            _check(lib.wasmtime_context_set_wasi(ctx, _wasi_config(grants)))
        # one instance, one memory, one table: the limits bound the whole store
        lib.wasmtime_store_limiter(raw, limits.memory_bytes, limits.table_elements, 1, 1, 1)
        if limits.fuel is not None:
            _check(lib.wasmtime_context_set_fuel(ctx, limits.fuel))
        timeout = 0  # clock ticks per outermost call (0: none)
        if limits.timeout is not None:
            start_clock()
            timeout = max(1, math.ceil(limits.timeout / CLOCK_TICK_SECONDS))
        watch_signals()
        # the call state the adapter keeps: deadlines of outermost calls, failures
        self._calls = Store(self._ctx_address, int(ffi.cast("uintptr_t", raw)), timeout)
        # instantiation (a start function, were one accepted) runs under the deadline too
        self._calls.arm()
        self._targets: list[CallbackTarget] = []  # see add_callback
        self._table: wasmtime.Table | None = None
        self._instance = ffi.new(_capi.INSTANCE_P)
        trap = ffi.new(_capi.TRAP_PP)
        expect_slot(limit_pages(limits) * PAGE, GC_HEAP_BYTES if loaded.tags else 0)
        err = lib.wasmtime_instance_pre_instantiate(loaded.pre_ptr, ctx, self._instance, trap)
        expect_slot(0)
        if err:  # imports are resolved already: what is left is the store's limits
            message = _capi.take_message("error", err)
            lib.wasmtime_error_delete(err)
            if "no room" in message:
                raise no_room(limits)
            raise ResourceError(f"wasmtime: {message}")
        if trap[0]:
            self._fail(_NULL, trap)
        mem = _capi.export_handle(ctx, self._instance, "memory", EXTERN_MEMORY)
        if mem is None:
            raise SandboxError("the module exports no memory")
        self.memory = WasmtimeMemory(ctx, mem, self._store, self._calls)
        if "_initialize" in loaded.func_types:
            self._initialize()

    # -- calls -------------------------------------------------------------------
    def _initialize(self) -> None:
        """Run the module's start-up (under the sandbox's deadline, if it has one)."""
        self._loaded.check(INITIALIZE)
        handle = _capi.export_handle(self._ctx, self._instance, INITIALIZE.name, EXTERN_FUNC)
        trap = ffi.new(_capi.TRAP_PP)
        self._calls.arm()
        values = ffi.new("wasmtime_val_raw_t[]", 1)
        err = lib.wasmtime_func_call_unchecked(self._ctx, handle, values, 0, trap)
        if err or trap[0]:
            self._fail(err, trap)

    def entry(self, fn: Function) -> RawEntry:
        self._loaded.check(fn)
        handle = _capi.export_bytes(self._ctx, self._instance, fn.name, EXTERN_FUNC)
        entry = Entry(self._calls, handle, len(fn.sig.params))
        return RawEntry((entry, self), CALL, entry.address, self._failed)

    def _failed(self, code: int, unused: int) -> None:
        self._fail(_NULL, ffi.new(_capi.TRAP_PP))

    def _fail(self, err: Any, trap: Any) -> None:
        """Turn a failed call into the right exception (and free what wasmtime gave);
        the failure the adapter holds first. A callback's exception travels as a host
        trap and is re-raised as itself."""
        held_err, held_trap, stopped = self._calls.take_failure()
        if held_err or held_trap:
            err, trap[0] = ffi.cast("wasmtime_error_t *", held_err), ffi.cast("wasm_trap_t *",
                                                                              held_trap)
        if stopped:
            if err:
                lib.wasmtime_error_delete(err)
            if trap[0]:
                lib.wasm_trap_delete(trap[0])
            if stopped == _STOPPED_BY_SIGNAL:
                raise_signalled()
            if stopped == _STOPPED_BY_TIME:
                raise ResourceError("CPU limit: the call exceeded its time limit "
                                    f"({self._limits.timeout} s)")
            raise Interrupted("the call was interrupted (Sandbox.interrupt())")
        if err:
            status = ffi.new("int *")
            exited = lib.wasmtime_error_exit_status(err, status)
            message = _capi.take_message("error", err)
            lib.wasmtime_error_delete(err)
            if exited:  # WASI proc_exit: the library called exit(); the host goes on
                raise TrapError(f"the library called exit({status[0]})", TrapKind.EXIT)
            if UNREGISTERED in message:  # our trampoline's trap, reported as an error
                raise TrapError(UNREGISTERED, TrapKind.UNREGISTERED_CALLBACK)
            raise SandboxError(f"wasmtime: {message}")
        t = trap[0]
        trap[0] = ffi.NULL
        code = ffi.new("uint8_t *")
        has_code = lib.wasmtime_trap_code(t, code)
        message = _capi.take_message("trap", t)
        lib.wasm_trap_delete(t)
        if has_code and code[0] == _capi.TRAP_OUT_OF_FUEL:
            raise ResourceError("CPU limit: the sandbox ran out of fuel")
        kind = _capi.TRAP_CODES.get(code[0], TrapKind.OTHER) if has_code else TrapKind.OTHER
        if not has_code and UNCAUGHT in message:  # a throw no frame of the call caught
            kind = TrapKind.UNCAUGHT_EXCEPTION
        # a frame reads "<index>: <offset> - <module>!<function>"
        frames = [line.split(" - ", 1)[-1].strip().split("!", 1)[-1]
                  for line in message.splitlines() if " - " in line]
        raise TrapError(f"{kind} in {frames[0]}" if frames else kind, kind)

    # -- callbacks ---------------------------------------------------------------
    def add_callback(self, sig: Signature, target: CallbackTarget) -> int:
        if self._table is None:
            table = _capi.export(self._context(), self._instance, "__indirect_function_table")
            if not isinstance(table, wasmtime.Table):
                raise SandboxError("the module exports no function table; rebuild it with "
                                   "sandboxlib's toolchain to use callbacks")
            self._table = table
        functype = _functype(sig)
        handle = ffi.new("uint8_t[]", _capi.FUNC_SIZE)
        lib.wasmtime_func_new_unchecked(self._ctx, _capi.address_of(functype.ptr()),
                                        _TRAMPOLINE, ffi.cast("void *", target.address),
                                        ffi.NULL, handle)
        # the store may call it (a copy in another slot too) while the instance lives
        self._targets.append(target)
        try:
            index: int = self._table.grow(self._context(), 1, _capi.func_from_bytes(handle))
        except wasmtime.WasmtimeError:
            raise table_full(self._limits) from None
        return index

    def remove_callback(self, address: int) -> None:
        if self._table is not None:
            # typed as taking a Store, but it only reads _context(), as grow does
            self._table.set(cast(Any, self._context()), address, None)

    def _context(self) -> Any:
        """The store as wasmtime-py sees it (for its table operations)."""
        return _capi.store_context(self._ctx)

    def interrupt(self) -> bool:
        refuse_uninterruptible(self._limits)
        if not self._calls.interrupt():
            return False
        lib.wasmtime_engine_increment_epoch(self._loaded.engine_ptr)  # the call looks now
        return True

    def close(self) -> None:
        """Nothing to release early: the store goes with the last reference."""


_NULL = ffi.NULL
_STOPPED_BY_SIGNAL, _STOPPED_BY_TIME = 2, 3  # the adapter's STOP_SIGNAL, STOP_TIMEOUT
# Callbacks run in C: the trampoline gets the compiled Callback as its environment.
_TRAMPOLINE = ffi.cast("wasmtime_func_unchecked_callback_t", TRAMPOLINE)


_functypes: dict[Signature, wasmtime.FuncType] = {}


def _functype(sig: Signature) -> wasmtime.FuncType:
    """The wasm type of a callback of ``sig``, made once per signature (wasmtime copies
    it into each function it makes; every store may share it)."""
    made = _functypes.get(sig)
    if made is None:
        made = _functypes[sig] = wasmtime.FuncType(
            [_VALTYPES[wasm_valtype(t)] for t in sig.params],
            [] if sig.result is Prim.VOID else [_VALTYPES[wasm_valtype(sig.result)]])
    return made


def _wasi_config(grants: Grants) -> Any:
    """A new WASI configuration for ``grants`` (the store that receives it owns it)."""
    if grants.dirs or grants.env:
        return _capi.address_of(_capi.consume(_py_wasi_config(grants)))
    config = lib.wasi_config_new()
    if grants.stdout:
        lib.wasi_config_inherit_stdout(config)
    if grants.stderr:
        lib.wasi_config_inherit_stderr(config)
    if grants.stdin:
        lib.wasi_config_inherit_stdin(config)
    return config


def _py_wasi_config(grants: Grants) -> wasmtime.WasiConfig:
    config = wasmtime.WasiConfig()
    if grants.stdout:
        config.inherit_stdout()
    if grants.stderr:
        config.inherit_stderr()
    if grants.stdin:
        config.inherit_stdin()
    for d in grants.dirs:
        config.preopen_dir(d.host_path, d.guest_path, fs_mutable=d.writable)
    if grants.env:
        config.env = [list(pair) for pair in grants.env]
    return config


def _check(err: Any) -> None:
    """Raise a wasmtime error returned by a C API call (and free it)."""
    if err:
        message = _capi.take_message("error", err)
        lib.wasmtime_error_delete(err)
        raise SandboxError(f"wasmtime: {message}")


_live: weakref.WeakSet[WasmtimeInstance] = weakref.WeakSet()
# Per library, the module it runs under given (engine kind, grants), resolved once:
# finding it reads and hashes the module file.
_modules: list[LoadedModule] = []


@atexit.register
def _release_before_exit() -> None:
    """Free wasmtime objects while wasmtime-py's bindings still exist: at interpreter
    exit its modules may be torn down before the stores and modules we cache."""
    for inst in list(_live):
        ffi.release(inst._store)
    for loaded in _modules:
        del loaded.pre, loaded.module
    _modules.clear()


class WasmtimeBackend:
    """JIT-compiled wasm via wasmtime; modules compiled once per process and cached on disk."""

    name = "wasmtime"
    isolated = True
    model = WASM32

    def instantiate(self, library: LibraryModule, limits: Limits, grants: Grants) -> WasmtimeInstance:
        kind = EngineKind(fuel=limits.fuel is not None, epoch=limits.interruptible)
        loaded = library.memo(("wasmtime", kind, grants, limits.memory_bytes),
                              lambda: self._load(library, kind, grants, limits))
        return WasmtimeInstance(loaded, limits, grants)

    @staticmethod
    def _load(library: LibraryModule, kind: EngineKind, grants: Grants, limits: Limits
              ) -> LoadedModule:
        wasm = library.wasm_module(grants, limits)

        def fresh() -> LoadedModule:
            module = compiled_module(kind, wasm)
            loaded = LoadedModule(kind, module, instance_pre(kind, module, grants.clock,
                                                             grants.random),
                                  tags=has_tags(wasm.read_bytes()))
            _modules.append(loaded)
            return loaded
        return library.memo(("wasmtime", kind, grants.clock, grants.random, wasm), fresh)
