"""A sandbox instance on the wasm2c backend, and the backend itself."""

from __future__ import annotations

import itertools
import math
import weakref
from typing import Any

from ...abi import INITIALIZE, WASM32, Function, Signature
from ...errors import (ClosedError, Interrupted, ResourceError, SandboxError, TrapError,
                       TrapKind)
from ..._boundary import CALLBACK_DISPATCH, CLOCK, CLOCK_TICK_SECONDS, REGION_UNIFORM, start_clock
from ..stopping import raise_signalled, refuse_uninterruptible, watch_signals
from ..base import CallbackTarget, LibraryModule, RawEntry, RawFunction, table_full
from ..hostcalls import HostCalls
from ...config import Grants, Limits
from ..room import limit_pages, no_room
from ..memory import CLOSED, Memory, RegionAccess
from . import wasi
from ._csrc import TRAPS
from .names import wasm_function_name
from ...toolchain.wasmbinary import wasm_type
from .build import LoadedModule, load

_KINDS = {  # trap code name -> what it means
    "WASM_RT_TRAP_OOB": TrapKind.OUT_OF_BOUNDS,
    "WASM_RT_TRAP_INT_OVERFLOW": TrapKind.INTEGER_OVERFLOW,
    "WASM_RT_TRAP_DIV_BY_ZERO": TrapKind.DIVISION_BY_ZERO,
    "WASM_RT_TRAP_INVALID_CONVERSION": TrapKind.INVALID_CONVERSION,
    "WASM_RT_TRAP_UNREACHABLE": TrapKind.UNREACHABLE,
    "WASM_RT_TRAP_CALL_INDIRECT": TrapKind.INDIRECT_CALL_TYPE,
    "WASM_RT_TRAP_NULL_REF": TrapKind.NULL_REFERENCE,
    "WASM_RT_TRAP_UNCAUGHT_EXCEPTION": TrapKind.UNCAUGHT_EXCEPTION,
    "WASM_RT_TRAP_UNALIGNED": TrapKind.MISALIGNED,
    "WASM_RT_TRAP_EXHAUSTION": TrapKind.STACK_OVERFLOW,
    "SBX_TRAP_STACK": TrapKind.STACK_OVERFLOW,
    "SBX_TRAP_TABLE": TrapKind.TABLE_OUT_OF_BOUNDS,
    "SBX_TRAP_NULL": TrapKind.INDIRECT_CALL_TO_NULL,
    "SBX_TRAP_TYPE": TrapKind.INDIRECT_CALL_TYPE,
    "SBX_TRAP_UNREGISTERED": TrapKind.UNREGISTERED_CALLBACK,
}

# Host calls from C find their instance by key (the C state holds the key).
_live: dict[int, weakref.ref[Wasm2cInstance]] = {}
_keys = itertools.count(1)
# Per library, the module it runs under given (grants, meter), resolved once: finding
# it reads and hashes the module file, which would cost more than the instance itself.
NO_FUEL_LIMIT = (1 << 63) - 1


class Wasm2cMemory:
    """The instance's linear memory: reserved once, so its base never moves."""

    __slots__ = ("_mem", "_base", "_loaded", "_owner", "_address")

    def __init__(self, loaded: LoadedModule, owner: Any, address: int) -> None:
        self._loaded, self._owner, self._address = loaded, owner, address
        self._mem: Any = None
        self._base = 0

    def region(self) -> tuple[int, int]:
        mem = self._mem
        if mem is None:
            mem = self._mem = self._loaded.lib.sbx_memory(self._owner)
        base: int = self._base
        if not base:
            base = self._base = int(self._loaded.ffi.cast("uintptr_t", mem.data))
        return base, mem.size

    def access(self) -> RegionAccess:
        """Compiled access holding a pin of the memory, given back when detached
        (before instantiation there is no memory to pin: every access then takes the
        slow way)."""
        if not self._loaded.lib.sbx_pin(self._owner):
            return CLOSED
        return RegionAccess(REGION_UNIFORM, self._loaded.region_address, self._address,
                            release=self._loaded.unpin_address)

    def grow(self, pages: int) -> bool:
        self.region()
        failed = (1 << 64) - 1
        return bool(self._loaded.lib.sbx_grow_memory(self._mem, pages) != failed)

    def pin(self) -> Any:
        """A ``char *`` at the memory's base that keeps the memory mapped (and its
        reservation out of reuse) while it lives, past close() too."""
        ffi, lib, owner = self._loaded.ffi, self._loaded.lib, self._owner
        if not lib.sbx_pin(owner):
            raise ClosedError("the sandbox is closed; its memory is gone")
        return ffi.gc(ffi.cast("char *", self._mem.data), lambda _: lib.sbx_unpin(owner))


class Wasm2cInstance:
    """One instance of the compiled module; see ``sandboxlib.backends.base.Instance``."""

    def __init__(self, loaded: LoadedModule, limits: Limits, grants: Grants) -> None:
        self._loaded = loaded
        self._limits = limits
        ffi, lib = loaded.ffi, loaded.lib
        if not loaded.region_address:  # sbx_region is made for a module with a memory
            raise SandboxError("the module exports no memory")
        self._hostcalls = HostCalls()  # exceptions of WASI calls
        self._targets: list[CallbackTarget] = []
        self._key = next(_keys)
        timeout = 0  # clock ticks per outermost call (0: none), checked in compiled code
        if limits.timeout is not None:
            start_clock()
            timeout = max(1, math.ceil(limits.timeout / CLOCK_TICK_SECONDS))
        watch_signals()
        raw = lib.sbx_new(limit_pages(limits), limits.table_elements, self._key,
                          NO_FUEL_LIMIT if limits.fuel is None else limits.fuel, timeout)
        if raw == ffi.NULL:
            raise ResourceError("cannot allocate a wasm2c instance")
        # Not ffi.gc: a collected cycle finalizes its objects in any order, and a
        # Sandbox or a memory pin of the same cycle may still call in; __del__ gives
        # up Python's reference and C frees the instance when its last one goes.
        self._inst: Any = raw
        self._address = int(ffi.cast("uintptr_t", raw))
        self._closed = False
        self._wasi: wasi.WasiHost | None = None
        self.memory = Wasm2cMemory(loaded, raw, self._address)
        try:
            if loaded.imports:  # WASI calls find their instance by key
                _live[self._key] = weakref.ref(self)
                self._wasi = wasi.WasiHost(grants, Memory(self.memory, "WASI call"),
                                           self._interrupted)
            self._imports = [self._wasi.handler(n) for n in loaded.imports] if self._wasi else []
            # under the deadline too, as every outermost call
            if lib.sbx_instantiate(raw, loaded.segment_array, len(loaded.segments)):
                self._fail()
            if loaded.has_initialize:
                self.function(INITIALIZE)()
        except BaseException:
            self.close()
            raise

    # -- calls -------------------------------------------------------------------
    def function(self, fn: Function) -> RawFunction:
        """A Python callable for ``fn`` through cffi (the start-up's; calls go through
        ``entry``)."""
        call = getattr(self._loaded.lib, self._loaded.wrapper(fn).symbol)
        inst, state = self._inst, self._state()

        def raw(*args: Any) -> Any:
            result = call(inst, *args)
            if state.trap:
                self._fail()
            return result
        return raw

    def entry(self, fn: Function) -> RawEntry:
        return RawEntry(self, self._loaded.entry_address(fn), self._address, self._failed)

    def _failed(self, code: int, unused: int) -> None:
        self._fail()

    def _state(self) -> Any:
        """The C state of the instance (its trap code)."""
        return self._loaded.lib.sbx_state_of(self._inst)

    def _interrupted(self) -> bool:
        """Whether the running call's deadline passed."""
        return bool(self._loaded.lib.sbx_interrupted(self._inst))

    def _fail(self) -> None:
        """Raise what the last call's trap means (a callback's exception as itself)."""
        traps = self._loaded.traps
        code = self._state().trap
        pending = self._hostcalls.take()
        if code == traps["SBX_TRAP_HOST"]:
            raise pending or TrapError("a host function failed", TrapKind.HOST)
        if code == traps["SBX_TRAP_EXIT"]:
            status = self._wasi.exit_code if self._wasi else None
            raise TrapError(f"the library called exit({status})", TrapKind.EXIT)
        if code == traps["SBX_TRAP_CLOSED"]:
            raise ClosedError("the wasm2c instance is closed")
        if code == traps["SBX_TRAP_MEMORY"]:
            raise ResourceError(f"the module's initial memory does not fit the limit of "
                                f"{self._limits.memory_bytes} bytes")
        if code == traps["SBX_TRAP_NO_ROOM"]:
            raise no_room(self._limits)
        if code == traps["SBX_TRAP_SIGNAL"]:
            raise_signalled()
        if code == traps["SBX_TRAP_INTERRUPTED"]:
            raise Interrupted("the call was interrupted (Sandbox.interrupt())")
        if code == traps["SBX_TRAP_FUEL"]:
            if self._loaded.lib.sbx_interrupted(self._inst):
                raise ResourceError("CPU limit: the call exceeded its time limit "
                                    f"({self._limits.timeout} s)")
            raise ResourceError(f"CPU limit: the sandbox ran out of fuel ({self._limits.fuel} "
                                "units: one per call and per loop iteration)")
        if code == traps["SBX_TRAP_TABLE_LIMIT"]:
            raise ResourceError("a table of the module is larger than the limit of "
                                f"{self._limits.table_elements} elements")
        if code == traps["SBX_TRAP_UNSUPPORTED"]:
            raise SandboxError("64-bit and custom-page-size memories are not supported")
        kind = next((k for name, k in _KINDS.items() if traps[name] == code), TrapKind.OTHER)
        state = self._state()
        where = (wasm_function_name(self._loaded.ffi.string(state.trap_in).decode(),
                                    self._loaded.translation.exports, self._loaded.names)
                 if state.trap_in else None)
        raise TrapError(f"{kind.value} in {where}" if where else kind.value, kind)

    def _host_import(self, index: int, values: Any) -> int:
        params = self._loaded.translation.imports[index].decl.params  # u32, u64: sbx_val fields
        result = self._imports[index](*[getattr(values[i], f) for i, f in enumerate(params)])
        return -self._loaded.traps[wasi.TRAPS[result]] if result < 0 else result

    # -- callbacks ---------------------------------------------------------------
    def add_callback(self, sig: Signature, target: CallbackTarget) -> int:
        lib = self._loaded.lib
        if not hasattr(lib, "sbx_add_callback"):
            raise SandboxError("the module exports no function table; rebuild it with "
                               "sandboxlib's toolchain to use callbacks")
        k = self._loaded.shim.trampolines.get(wasm_type(sig), -1)
        index = int(lib.sbx_add_callback(self._inst, k, target.address))
        if index < 0:
            raise table_full(self._limits)
        self._targets.append(target)  # its record may be called until the instance goes
        return index

    def remove_callback(self, address: int) -> None:
        self._loaded.lib.sbx_remove_callback(self._inst, address)

    def interrupt(self) -> bool:
        refuse_uninterruptible(self._limits)
        return bool(self._loaded.lib.sbx_interrupt(self._inst))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loaded.lib.sbx_close(self._inst)
            if self._wasi is not None:
                self._wasi.close()
            _live.pop(self._key, None)

    def __del__(self) -> None:
        if getattr(self, "_inst", None) is not None:
            self.close()
            self._loaded.lib.sbx_delete(self._inst)
            self._inst = None


def _instance(handle: int) -> Wasm2cInstance | None:
    ref = _live.get(handle)
    return ref() if ref is not None else None


def _dispatch_import(handle: int, index: int, values: Any) -> int:
    inst = _instance(handle)
    if inst is None:
        return -TRAPS["SBX_TRAP_HOST"]  # the instance is gone
    try:
        return inst._host_import(index, values)
    except BaseException as exc:  # carried back to the caller of the sandbox
        inst._hostcalls.hold(exc)
        return -TRAPS["SBX_TRAP_HOST"]


class Wasm2cBackend:
    """wasm translated to C by wasm2c, compiled ahead of time as a CPython extension."""

    name = "wasm2c"
    isolated = True
    model = WASM32

    def instantiate(self, library: LibraryModule, limits: Limits, grants: Grants) -> Wasm2cInstance:
        meter = 1 if limits.fuel is not None else 2 if limits.interruptible else 0
        loaded = library.memo(("wasm2c", grants, meter, limits.memory_bytes),
                              lambda: self._load(library, grants, limits, meter))
        return Wasm2cInstance(loaded, limits, grants)

    @staticmethod
    def _load(library: LibraryModule, grants: Grants, limits: Limits, meter: int) -> LoadedModule:
        wasm = library.wasm_module(grants, limits)

        def fresh() -> LoadedModule:
            loaded = load(library, wasm, meter)
            loaded.ffi.def_extern(name="sbx_py_import")(_dispatch_import)
            loaded.lib.sbx_set_dispatch(CALLBACK_DISPATCH)
            loaded.lib.sbx_set_clock(CLOCK)
            return loaded
        return library.memo(("wasm2c", meter, wasm), fresh)
