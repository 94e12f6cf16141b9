"""wasmtime in the compiled boundary's forms (sandboxlib/backends/wasmtime/_adapter.c)."""

CALL: int  # sbx_call_fn: an Entry's address is its ctx
REGION: int  # sbx_region_fn: a MemoryRef's address is its ctx
TRAMPOLINE: int  # wasmtime_func_unchecked_callback_t: a boundary Callback is its env
CREATOR: int  # wasmtime_memory_creator_t over sandboxlib._slab's slots

def setup(call_unchecked: int, set_epoch_deadline: int, memory_data: int,
          memory_data_size: int, trap_new: int, error_new: int, callback_dispatch: int,
          slab_api: int, store_epoch_deadline_callback: int, clock: int, /) -> None: ...
def expect(size: int, /) -> None: ...

class Store:
    def __init__(self, context: int, store: int, timeout_ticks: int, /) -> None: ...
    def take_failure(self) -> tuple[int, int, int]: ...  # error, trap, why stopped (STOP_*)
    def arm(self) -> None: ...
    def interrupt(self) -> bool: ...

class Entry:
    address: int
    def __init__(self, store: Store, func: bytes, params: int, /) -> None: ...

class MemoryRef:
    address: int
    def __init__(self, store: Store, memory: bytes, /) -> None: ...
