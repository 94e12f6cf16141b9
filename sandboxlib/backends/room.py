"""The room a sandbox's memory takes (its limit, in whole wasm pages: the allocator's
slot), and the error for one the machine has no room for, naming the limit reached."""

from __future__ import annotations

import errno
import os
import resource
from pathlib import Path

from .._slab import failure, stats
from ..config import Limits
from ..errors import ResourceError

PAGE, MAX_PAGES = 65536, 65536  # wasm page size; pages of a 32-bit memory
_MAPS_MARGIN = 256  # mappings the rest of the process may still want


def limit_pages(limits: Limits) -> int:
    """The most pages a sandbox with ``limits`` may have."""
    return min(limits.memory_bytes // PAGE, MAX_PAGES)


def no_room(limits: Limits) -> ResourceError:
    """Call right after the allocator refused the slot of a sandbox with ``limits``, on
    its thread."""
    code = failure() or errno.ENOMEM
    slots = stats()
    return ResourceError(
        f"no room for another sandbox's memory of {limit_pages(limits) * PAGE / 2**20:.0f} MiB "
        f"({os.strerror(code)}): {slots['live']} sandbox memories are live in "
        f"{slots['reserved_bytes'] / 2**30:.0f} GiB of address space; the machine's limit "
        f"reached: {_limit_reached()}. Each sandbox reserves its Limits.memory_bytes: "
        "a lower limit fits more sandboxes.")


def _limit_reached() -> str:
    causes = []
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        causes.append(f"the process's address-space limit (RLIMIT_AS, `ulimit -v`) of "
                      f"{soft / 2**30:.1f} GiB")
    most = _read_int("/proc/sys/vm/max_map_count")
    if most is not None:
        with open("/proc/self/maps", "rb") as maps:
            used = sum(1 for _ in maps)
        if used + _MAPS_MARGIN >= most:
            causes.append(f"vm.max_map_count ({most} mappings per process, {used} in use)")
    if _read_int("/proc/sys/vm/overcommit_memory") == 2:
        causes.append("vm.overcommit_memory = 2 (strict accounting: reservations count "
                      "against CommitLimit)")
    return "; ".join(causes) or "the process's virtual address space (128 TiB on x86-64 Linux)"


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
