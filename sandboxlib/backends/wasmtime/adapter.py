"""The C adapter between wasmtime and the compiled boundary (``_adapter.c``), set up
once with wasmtime's C entry points, the boundary's callback dispatcher and clock,
and the allocator of linear memories."""

from __future__ import annotations

from typing import Any

from ..._boundary import CALLBACK_DISPATCH, CLOCK
from ..._slab import api as slab_api
from ._adapter import CALL, CREATOR, REGION, TRAMPOLINE, Entry, MemoryRef, Store, expect, setup
from ._capi import ERROR_NEW, ffi, lib


def _address(fn: Any) -> int:
    return int(ffi.cast("uintptr_t", fn))


setup(_address(lib.wasmtime_func_call_unchecked),
      _address(lib.wasmtime_context_set_epoch_deadline),
      _address(lib.wasmtime_memory_data), _address(lib.wasmtime_memory_data_size),
      _address(lib.wasmtime_trap_new), ERROR_NEW, CALLBACK_DISPATCH, slab_api(),
      _address(lib.wasmtime_store_epoch_deadline_callback), CLOCK)

__all__ = ["CALL", "CREATOR", "REGION", "TRAMPOLINE", "Entry", "MemoryRef", "Store", "expect"]
