"""cffi (ABI mode) declarations of the few wasmtime C API calls on the hot paths,
and every use of wasmtime-py's private internals (its ctypes bindings, handle
wrappers), so that an upgrade of wasmtime-py has one place to check.

wasmtime-py drives everything through ctypes, which costs ~25 µs per call; these
entry points, called on the same shared library wasmtime-py ships, cost well under
a microsecond. Struct handles are passed as opaque bytes copied from wasmtime-py.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import cffi
import wasmtime

from wasmtime import _ffi as _wffi
from wasmtime._extern import wrap_extern
from wasmtime._store import StoreContext

from ...errors import SandboxError, TrapKind

ffi = cffi.FFI()
_EXTERN_WORDS = ctypes.sizeof(_wffi.wasmtime_extern_union) // 8
FUNC_SIZE = ctypes.sizeof(_wffi.wasmtime_func_t)
MEMORY_SIZE = ctypes.sizeof(_wffi.wasmtime_memory_t)
EXTERN_FUNC, EXTERN_MEMORY = 0, 3
ffi.cdef(f"""
typedef struct {{ uint8_t kind; uint64_t of[{_EXTERN_WORDS}]; }} wasmtime_extern_t;
typedef union {{
    int32_t i32; uint32_t u32; int64_t i64; uint64_t u64; float f32; double f64;
    uint8_t v128[16]; void *funcref;
}} wasmtime_val_raw_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_error_t wasmtime_error_t;
typedef struct {{ size_t size; char *data; }} wasm_byte_vec_t;
typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(void *, void *, wasmtime_val_raw_t *,
                                                            size_t);

wasmtime_error_t *wasmtime_func_call_unchecked(void *store, const void *func,
    wasmtime_val_raw_t *args_and_results, size_t len, wasm_trap_t **trap);
void wasmtime_func_new_unchecked(void *store, const void *type,
    wasmtime_func_unchecked_callback_t callback, void *env, void (*finalizer)(void *),
    void *ret);
void *wasmtime_caller_context(void *caller);
bool wasmtime_instance_export_get(const void *store, const void *instance, const char *name,
                                  size_t name_len, wasmtime_extern_t *item);
uintptr_t wasmtime_memory_data(const void *store, const void *memory);  /* uint8_t * */
size_t wasmtime_memory_data_size(const void *store, const void *memory);
wasmtime_error_t *wasmtime_memory_grow(void *store, const void *memory, uint64_t delta,
                                       uint64_t *prev_size);
void wasmtime_context_set_epoch_deadline(void *store, uint64_t ticks_beyond_current);
wasm_trap_t *wasmtime_trap_new(const char *msg, size_t len);
bool wasmtime_trap_code(const wasm_trap_t *, uint8_t *code);
void wasm_trap_message(const wasm_trap_t *, wasm_byte_vec_t *out);
void wasm_trap_delete(wasm_trap_t *);
void wasmtime_error_message(const wasmtime_error_t *, wasm_byte_vec_t *out);
void wasmtime_error_delete(wasmtime_error_t *);
wasmtime_error_t *wasmtime_error_new(const char *);
bool wasmtime_error_exit_status(const wasmtime_error_t *, int *status);
void wasm_byte_vec_delete(wasm_byte_vec_t *);
typedef struct {{ uint64_t store_id; size_t index; }} wasmtime_instance_t;
void *wasmtime_store_new(void *engine, void *data, void (*finalizer)(void *));
void *wasmtime_store_context(void *store);
void wasmtime_store_limiter(void *store, int64_t memory_size, int64_t table_elements,
                            int64_t instances, int64_t tables, int64_t memories);
void wasmtime_store_delete(void *store);
void wasmtime_store_epoch_deadline_callback(void *store,
    wasmtime_error_t *(*func)(void *context, void *data, uint64_t *delta, uint8_t *kind),
    void *data, void (*finalizer)(void *));
void wasmtime_engine_increment_epoch(void *engine);
wasmtime_error_t *wasmtime_context_set_fuel(void *store, uint64_t fuel);
void *wasi_config_new(void);
void wasi_config_inherit_stdin(void *config);
void wasi_config_inherit_stdout(void *config);
void wasi_config_inherit_stderr(void *config);
wasmtime_error_t *wasmtime_context_set_wasi(void *store, void *wasi);
wasmtime_error_t *wasmtime_instance_pre_instantiate(const void *pre, void *store,
    wasmtime_instance_t *instance, wasm_trap_t **trap);
""")
assert ffi.sizeof("wasmtime_instance_t") == ctypes.sizeof(_wffi.wasmtime_instance_t)


def _library_path() -> str:
    """The wasmtime shared library that wasmtime-py loaded."""
    dll = getattr(_wffi, "dll", None)
    name = getattr(dll, "_name", None)
    if isinstance(name, str) and os.path.exists(name):
        return name
    raise ImportError("cannot locate the wasmtime shared library inside wasmtime-py")


lib: Any = ffi.dlopen(_library_path())
# C types resolved once (``ffi.new`` with a type string parses it on every call)
EXTERN_P, BYTES = ffi.typeof("wasmtime_extern_t *"), ffi.typeof("uint8_t[]")
INSTANCE_P, TRAP_PP = ffi.typeof("wasmtime_instance_t *"), ffi.typeof("wasm_trap_t **")

TRAP_OUT_OF_FUEL = 11  # wasmtime_trap_code_t (epoch deadlines end in the Store's callback)
TRAP_CODES = {  # wasmtime_trap_code_t -> what it means
    0: TrapKind.STACK_OVERFLOW, 1: TrapKind.OUT_OF_BOUNDS, 2: TrapKind.MISALIGNED,
    3: TrapKind.TABLE_OUT_OF_BOUNDS, 4: TrapKind.INDIRECT_CALL_TO_NULL,
    5: TrapKind.INDIRECT_CALL_TYPE, 6: TrapKind.INTEGER_OVERFLOW, 7: TrapKind.DIVISION_BY_ZERO,
    8: TrapKind.INVALID_CONVERSION, 9: TrapKind.UNREACHABLE,
}


def address_of(ctypes_obj: Any) -> Any:
    """A cffi ``void *`` for a ctypes pointer or structure owned by wasmtime-py."""
    if isinstance(ctypes_obj, ctypes._Pointer):
        value = ctypes.cast(ctypes_obj, ctypes.c_void_p).value
    else:
        value = ctypes.addressof(ctypes_obj)
    return ffi.cast("void *", value or 0)


def func_from_bytes(buf: Any) -> wasmtime.Func:
    """A wasmtime-py Func for a handle created through cffi (for table updates)."""
    raw = _wffi.wasmtime_func_t.from_buffer_copy(ffi.buffer(buf, FUNC_SIZE))
    return wasmtime.Func._from_raw(raw)


def export_handle(ctx: Any, instance: Any, name: str, kind: int) -> Any:
    """The handle of export ``name`` as a cffi buffer if it exists with extern ``kind``,
    else None."""
    try:
        data = export_bytes(ctx, instance, name, kind)
    except SandboxError:
        return None
    buf = ffi.new(BYTES, len(data))
    ffi.memmove(buf, data, len(data))
    return buf


def export_bytes(ctx: Any, instance: Any, name: str, kind: int) -> bytes:
    """The handle of export ``name`` as bytes (SandboxError if it is missing)."""
    item = ffi.new(EXTERN_P)
    data = name.encode()
    if not lib.wasmtime_instance_export_get(ctx, instance, data, len(data), item) or (
            item.kind != kind):
        raise SandboxError(f"the module does not export {name!r} as a "
                           f"{'function' if kind == EXTERN_FUNC else 'memory'}")
    handle: bytes = ffi.buffer(item.of, FUNC_SIZE if kind == EXTERN_FUNC else MEMORY_SIZE)[:]
    return handle


def take_message(kind: str, ptr: Any) -> str:
    """Read and free the message of a trap or an error."""
    vec = ffi.new("wasm_byte_vec_t *")
    if kind == "trap":
        lib.wasm_trap_message(ptr, vec)
    else:
        lib.wasmtime_error_message(ptr, vec)
    text: str = ffi.unpack(vec.data, vec.size).decode(errors="replace").rstrip("\0")
    lib.wasm_byte_vec_delete(vec)
    return text


def set_signals_based_traps(config: wasmtime.Config, enabled: bool) -> None:
    """Whether ``config``'s engine may find traps through signal handlers of its own
    (guard-region faults, trap instructions) or must check for them in its code."""
    _wffi.wasmtime_config_signals_based_traps_set(config.ptr(), enabled)


def set_memory_creator(config: wasmtime.Config, creator: int) -> None:
    """Have ``config``'s engine take linear memories from the C ``wasmtime_memory_creator_t``
    at address ``creator`` (copied by wasmtime)."""
    _wffi.wasmtime_config_host_memory_creator_set(
        config.ptr(), ctypes.cast(creator, ctypes.POINTER(_wffi.wasmtime_memory_creator_t)))


ERROR_NEW = int(ffi.cast("uintptr_t", lib.wasmtime_error_new))


def store_context(ctx: Any) -> StoreContext:
    """A wasmtime-py view of a store context created through cffi."""
    address = int(ffi.cast("uintptr_t", ctx))
    return StoreContext(ctypes.cast(address, ctypes.POINTER(_wffi.wasmtime_context_t)))


def consume(config: wasmtime.WasiConfig) -> Any:
    """The C pointer of a wasmtime-py WASI configuration, which the caller now owns."""
    return config._consume()


def export(store: StoreContext, instance: Any, name: str) -> Any:
    """One export of ``instance`` (a cffi ``wasmtime_instance_t *``) as a wasmtime-py
    object."""
    item = _wffi.wasmtime_extern_t()
    raw = _wffi.wasmtime_instance_t.from_buffer_copy(ffi.buffer(instance))
    data = name.encode()
    if not _wffi.wasmtime_instance_export_get(store._context(), ctypes.byref(raw),
                                              data, len(data), ctypes.byref(item)):
        return None
    return wrap_extern(item)
