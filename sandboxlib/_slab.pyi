"""Linear memories laid out for density (sandboxlib/_slab.c)."""

def api() -> int:
    """Address of the allocator's C interface (``sbx_slab_api``, ``_slab.h``)."""

def wasmtime_creator(error_new: int) -> int:
    """Address of a ``wasmtime_memory_creator_t`` over the slots, given
    ``wasmtime_error_new``'s address."""

def expect(size: int) -> None:
    """Slot size in bytes for the next wasmtime memory this thread creates (0: none)."""

def failure() -> int:
    """``errno`` of this thread's last refused slot (0 if none), then forgotten."""

def stats() -> dict[str, int]:
    """Slabs mapped, bytes reserved, and live, free and lost slots."""
