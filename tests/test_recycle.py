"""A closed sandbox's memory slot (sandboxlib._slab) serves the next sandbox of the
same limit, on wasm2c and on wasmtime: the recycled memory must read as
a fresh sandbox's (zeros but the module's data image), at its initial size, with what
the previous sandbox grew unreachable, and its table and globals fresh."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs import plain
from recycling import SECRET, slot_base

from sandboxlib import Library, Limits, Sandbox, TrapError

LIMITS = Limits(memory_bytes=(12 << 20) + (1 << 16))  # a reservation size of their own


def _image(sb: Sandbox) -> bytes:
    """The whole memory of a sandbox (address 0 cannot be read: NULL)."""
    return b"\0" + sb.memory.read(1, sb.memory.size - 1)


SLABS = ["wasm2c", "wasmtime"]  # their memories are slots of sandboxlib._slab


@pytest.fixture(params=SLABS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


@pytest.fixture
def fresh(hostile_lib: Library, backend: str) -> bytes:
    """A new sandbox's memory, read from one with another slot size (reading every page
    would make the recycled sandbox's memory look heavily used)."""
    with hostile_lib.sandbox(backend, limits=Limits(memory_bytes=LIMITS.memory_bytes * 2)) as sb:
        return _image(sb)


@pytest.mark.parametrize("size", [16 << 10, 2 << 20, 5 << 20],
                         ids=["pages-kept", "past-the-slot-budget", "past-scrub-limit"])
def test_a_recycled_memory_holds_nothing_of_the_closed_sandbox(hostile_lib: Library, backend: str,
                                                               fresh: bytes, size: int) -> None:
    first = hostile_lib.sandbox(backend, limits=LIMITS)
    initial = first.memory.size
    base = slot_base(first)
    small = first.copy_in(SECRET)  # inside the initial pages
    block = first.alloc(size)
    block.write(SECRET * (size // len(SECRET)))
    far = block.address + size - 4
    assert plain(first.hostile_ok(1)) == 2
    first.close()
    assert small.address == 0  # the old allocation handles are dead
    del first, small, block  # wasmtime frees a store with its last reference

    second = hostile_lib.sandbox(backend, limits=LIMITS)
    try:
        assert slot_base(second) == base  # the same slot, recycled
        assert second.memory.size == initial
        assert _image(second) == fresh  # zeros but the data image: no trace of SECRET
        if far >= initial:  # what the first sandbox grew is inaccessible again
            with pytest.raises(TrapError):
                second.hostile_read_far(far)
    finally:
        second.close()


def test_recycled_memory_after_a_trap_is_clean(hostile_lib: Library, backend: str,
                                               fresh: bytes) -> None:
    first = hostile_lib.sandbox(backend, limits=LIMITS)
    first.copy_in(SECRET)
    with pytest.raises(TrapError):
        first.hostile_unreachable()
    first.close()
    del first
    with hostile_lib.sandbox(backend, limits=LIMITS) as second:
        assert _image(second) == fresh


def test_concurrent_create_and_close_never_share_memory(hostile_lib: Library, backend: str,
                                                        fresh: bytes) -> None:
    errors: list[BaseException] = []

    def worker(tag: int) -> None:
        try:
            for _ in range(50):
                with hostile_lib.sandbox(backend, limits=LIMITS) as sb:
                    block = sb.alloc(4096)  # the same address in every fresh sandbox
                    assert plain(block.read()) == bytes(4096)
                    block.write(bytes([tag]) * 4096)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t + 1,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with hostile_lib.sandbox(backend, limits=LIMITS) as sb:
        assert _image(sb) == fresh


def _table_and_stack(sb: Sandbox) -> tuple[int, int]:
    """The table's size and the shadow stack pointer (a wasm global) of a sandbox."""
    return plain(sb.hostile_table_size()), plain(sb.hostile_stack_pointer())


def test_a_recycled_slot_starts_with_a_fresh_table_and_globals(hostile_lib: Library,
                                                              backend: str) -> None:
    with hostile_lib.sandbox(backend, limits=Limits(memory_bytes=LIMITS.memory_bytes * 2)) as sb:
        fresh = _table_and_stack(sb)
    own = Limits(memory_bytes=LIMITS.memory_bytes + (1 << 16))  # no other slot of its size
    first = hostile_lib.sandbox(backend, limits=own)
    base = slot_base(first)
    assert plain(first.hostile_table_grow(7)) == fresh[0]
    with pytest.raises(TrapError):  # leaves the stack pointer deep down
        first.hostile_recurse(0)
    first.close()
    del first
    with hostile_lib.sandbox(backend, limits=own) as second:
        assert slot_base(second) == base
        assert _table_and_stack(second) == fresh


NO_ROOM = """
import resource, sys
from libs import hostile_library
from sandboxlib import Limits, ResourceError
lib, backend = hostile_library(), sys.argv[1]
boxes = [lib.sandbox(backend)]  # built and loaded before the limit
with open("/proc/self/statm") as f:
    size = int(f.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (size + (2 << 30), resource.RLIM_INFINITY))
try:
    while len(boxes) < 1000:
        boxes.append(lib.sandbox(backend, limits=Limits(memory_bytes=256 << 20)))
except ResourceError as exc:
    print(len(boxes), exc)
"""


@pytest.mark.parametrize("name", ["wasm2c", "wasmtime"])
def test_no_room_for_another_memory_is_a_resource_error_naming_the_limit(name: str) -> None:
    proc = subprocess.run([sys.executable, "-c", NO_ROOM, name], capture_output=True, text=True,
                          cwd=Path(__file__).parent, timeout=120)
    assert proc.returncode == 0, proc.stderr
    count, message = proc.stdout.split(" ", 1)
    assert 1 < int(count) < 1000
    assert "no room for another sandbox's memory of 256 MiB" in message
    assert "RLIMIT_AS" in message, message


def test_a_sandbox_cannot_reach_the_next_slot(hostile_lib: Library, backend: str) -> None:
    """Slots of one size lie side by side in their reservation: the bounds checks, not a
    protection change, keep a sandbox out of its neighbour's."""
    own = Limits(memory_bytes=LIMITS.memory_bytes + (2 << 16))  # no other slot of its size
    slot = own.memory_bytes
    for reach in ("size", "slot end", "secret", "neighbour end", "4 GiB"):
        with hostile_lib.sandbox(backend, limits=own) as a, \
                hostile_lib.sandbox(backend, limits=own) as b:
            low, high = sorted([a, b], key=slot_base)
            assert slot_base(high) == slot_base(low) + slot  # neighbours
            secret = high.copy_in(SECRET)
            address = {"size": low.memory.size, "slot end": slot - 4,
                       "secret": slot + secret.address,
                       "neighbour end": slot + high.memory.size - 4,
                       "4 GiB": (1 << 32) - 4}[reach]
            with pytest.raises(TrapError):  # a trap poisons: a new pair for each reach
                low.hostile_read_far(address)


def assert_clean_in_a_child(script: str, *args: str) -> None:
    """Run ``script`` in a child process (the budget of resident pages is the
    process's) and check that it printed "clean"."""
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, cwd=Path(__file__).parent, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "clean", proc.stderr


WIPE_WITHOUT_PAGEMAP = """
import os, resource
from libs import hostile_library
from recycling import SECRET, assert_no_secret, next_tenant_reads, slot_base
from sandboxlib import Limits
lib, limits = hostile_library(), Limits(memory_bytes=(12 << 20) + (3 << 16))
first = lib.sandbox("wasm2c", limits=limits)
base, size = slot_base(first), first.memory.size
first.copy_in(SECRET)  # a light memory: its resident pages are zeroed one by one
lowest = os.dup(0)  # the lowest free descriptor: none may be opened from there on
os.close(lowest)
resource.setrlimit(resource.RLIMIT_NOFILE, (lowest, lowest))  # the wipe cannot open pagemap
first.close()
assert_no_secret(next_tenant_reads(lib, "wasm2c", limits, base, size))
"""


def test_the_wipe_without_pagemap_falls_back_to_mincore() -> None:
    assert_clean_in_a_child(WIPE_WITHOUT_PAGEMAP)


KEPT_RESIDENT = """
import sys
from libs import hostile_library
from recycling import SECRET, assert_no_secret, next_tenant_reads, slot_base
from sandboxlib import Limits, _slab
lib, limits = hostile_library(), Limits(memory_bytes=(12 << 20) + (5 << 16))
first = lib.sandbox(sys.argv[1], limits=limits)
base, initial = slot_base(first), first.memory.size
size = int(sys.argv[2])
block = first.alloc(size)  # past the initial size: the memory grows
block.write(SECRET * (size // len(SECRET)))
first.copy_in(SECRET)
sparse = first.alloc(256 << 10)  # pages holding one byte each, where a wipe's test looks last
start = (sparse.address + 4095) & ~4095
marks = [start + i * 4096 + (255, 256, 2047, 4000, 4095)[i % 5] for i in range(60)]
for at in marks:
    first.memory.write(at, b"\\xa5")
grown = first.memory.size
assert grown > initial, (grown, initial)
first.close()
del first, block, sparse
kept = _slab.stats()["kept_bytes"]
assert kept > size, f"the slot kept {kept} bytes resident"
image = next_tenant_reads(lib, sys.argv[1], limits, base, grown, initial=initial)
assert _slab.stats()["kept_bytes"] == 0  # taken with its pages
assert [at for at in marks if image[at - 1]] == [], "a page holding one byte kept it"
assert_no_secret(image)
"""


ONLY_READ = """
import sys
from libs import hostile_library
from sandboxlib import Limits, _slab
lib, limits = hostile_library(), Limits(memory_bytes=12 << 20)
sb = lib.sandbox(sys.argv[1], limits=limits)
block = sb.alloc(600 << 10)  # grown, and not written: the shared zero page where read
assert not any(sb.memory.read(block.address, 600 << 10))
sb.close()
del sb, block
kept = _slab.stats()["kept_bytes"]
assert kept < 64 << 10, f"the slot kept {kept} bytes for pages only read"
print("clean")
"""


@pytest.mark.parametrize("backend_name", SLABS)
def test_pages_only_read_are_not_kept(backend_name: str) -> None:
    """A page the tenant only read maps the shared zero page: the wipe lets it go
    instead of keeping it (it would be scanned at every later wipe of the slot)."""
    assert_clean_in_a_child(ONLY_READ, backend_name)


@pytest.mark.parametrize("size", [600 << 10, 3 << 20])
@pytest.mark.parametrize("backend_name", SLABS)
def test_a_slot_recycled_with_its_pages_resident_reads_zero_where_its_tenant_wrote(
        backend_name: str, size: int) -> None:
    """A light slot (its tenant wrote 600 KiB, or 3 MiB as an image decoder's pixels
    do, grown past the initial memory) keeps its pages resident for the next sandbox,
    zeroed in place: nothing the tenant wrote is readable, in the initial pages or past
    them once the memory grows again. In a child process: the budget of resident pages
    is the process's."""
    assert_clean_in_a_child(KEPT_RESIDENT, backend_name, str(size))


FILLED_BY_THE_TENANT = """
import sys
from libs import hostile_library, plain
from recycling import next_tenant_reads, slot_base
from sandboxlib import Limits, _slab
lib, limits = hostile_library(), Limits(memory_bytes=(12 << 20) + (7 << 16))
first = lib.sandbox(sys.argv[1], limits=limits)
base = slot_base(first)
size = 600 << 10
block = first.alloc(size)  # past the initial size: the memory grows
block.write(b"X\\0")
# the tenant's memset (memory.fill): 'X' over the block, from its strlen on
assert plain(first.hostile_overflow_arg(block, size - 2)) == size - 1
page = (block.address + 4095) & ~4095
first.memory.write(page + 3 * 4096, bytes(3 * 4096))  # three pages written, then zero again
view = first.memory.view(page + 8 * 4096, 4096)  # a page the host read, then wrote
assert bytes(view) == b"X" * 4096
first.memory.write(page + 8 * 4096, b"Y" * 4096)
grown = first.memory.size
first.close()
del first, block, view
assert _slab.stats()["kept_bytes"] > size // 2, _slab.stats()  # kept resident, zeroed
image = next_tenant_reads(lib, sys.argv[1], limits, base, grown)
assert b"XXXX" not in image and b"YYYY" not in image, "the tenant's fill is back"
print("clean")
"""


@pytest.mark.parametrize("backend_name", SLABS)
def test_pages_the_tenant_filled_with_bulk_memory_are_wiped(backend_name: str) -> None:
    """What the tenant wrote with ``memory.fill`` (its memset), pages it wrote and zeroed
    again, and a page the host wrote after reading it are gone from the slot kept
    resident for the next sandbox."""
    assert_clean_in_a_child(FILLED_BY_THE_TENANT, backend_name)


LARGE_TENANT = """
import sys
from libs import hostile_library
from recycling import SECRET, assert_no_secret, next_tenant_reads, slot_base
from sandboxlib import Limits, _slab
lib, limits = hostile_library(), Limits(memory_bytes=48 << 20)
first = lib.sandbox(sys.argv[1], limits=limits)
base, initial = slot_base(first), first.memory.size
blocks = [first.alloc(6 << 20) for _ in range(4)]  # 24 MiB: past a chunk and the budget
for block in blocks:
    block.write(SECRET * ((6 << 20) // len(SECRET)))
grown = first.memory.size
first.close()
del first, blocks, block
kept = _slab.stats()["kept_bytes"]
assert 4 << 20 < kept <= 16 << 20, f"the slot kept {kept} bytes resident"
assert_no_secret(next_tenant_reads(lib, sys.argv[1], limits, base, grown, 1 << 20, initial))
"""


@pytest.mark.parametrize("backend_name", SLABS)
def test_a_large_tenant_leaves_a_slot_whose_kept_and_discarded_pages_read_zero(
        backend_name: str) -> None:
    """A tenant that wrote 24 MiB (an image's pixels) leaves its slot with more pages
    resident than one chunk of page states covers, up to the slot's budget, zeroed in
    place, and the rest discarded: the next sandbox reads none of it anywhere."""
    assert_clean_in_a_child(LARGE_TENANT, backend_name)


SPARSE_TENANT = """
import sys
from libs import hostile_library
from recycling import SECRET, assert_no_secret, next_tenant_reads, slot_base
from sandboxlib import Limits
lib, limits = hostile_library(), Limits(memory_bytes=96 << 20)
first = lib.sandbox(sys.argv[1], limits=limits)
base = slot_base(first)
blocks = []
while first.memory.size < 72 << 20:  # grown, written only past the pages a wipe scans
    blocks.append(first.alloc(4 << 20))
grown = first.memory.size
for at in (66 << 20, grown - len(SECRET)):
    first.memory.write(at, SECRET)
first.close()
del first, blocks
assert_no_secret(next_tenant_reads(lib, sys.argv[1], limits, base, grown, 4 << 20))
"""


@pytest.mark.parametrize("backend_name", SLABS)
def test_pages_past_the_scanned_part_of_a_sparse_memory_are_discarded(
        backend_name: str) -> None:
    """A tenant that grew its memory to 72 MiB and wrote only near its end leaves
    nothing there: the wipe reads the page states of the first 64 MiB only and
    discards everything past them."""
    assert_clean_in_a_child(SPARSE_TENANT, backend_name)
