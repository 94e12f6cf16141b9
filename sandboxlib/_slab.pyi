"""Linear memories laid out for density (sandboxlib/_slab.c)."""

def api() -> int:
    """Address of the allocator's C interface (``sbx_slab_api``, ``_slab.h``)."""

def failure() -> int:
    """``errno`` of this thread's last refused slot (0 if none), then forgotten."""

def stats() -> dict[str, int]:
    """Slabs mapped, bytes reserved, live and free slots, the resident bytes free slots
    keep (``kept_bytes``), and slots lost to a failed wipe."""
