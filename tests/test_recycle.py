"""wasm2c reuses a closed sandbox's address-space reservation for the next one:
the recycled memory must read as a fresh sandbox's (zeros but the module's data
image), at its initial size, with what the previous sandbox grew unreachable."""

from __future__ import annotations

import threading

import pytest

from libs import plain

from sandboxlib import Library, Limits, Sandbox, TrapError

SECRET = b"sandboxlib-secret-" * 64
LIMITS = Limits(memory_bytes=(12 << 20) + (1 << 16))  # a reservation size of their own


def _base(sb: Sandbox) -> int:
    return sb._instance.memory.region()[0]


def _image(sb: Sandbox) -> bytes:
    """The whole memory of a sandbox (address 0 cannot be read: NULL)."""
    return b"\0" + sb.memory.read(1, sb.memory.size - 1)


@pytest.fixture(scope="module")
def fresh(hostile_lib: Library) -> bytes:
    """A new sandbox's memory, read from one with another reservation size (reading
    every page would make the recycled sandbox's memory look heavily used)."""
    with hostile_lib.sandbox("wasm2c", limits=Limits(memory_bytes=LIMITS.memory_bytes * 2)) as sb:
        return _image(sb)


@pytest.mark.parametrize("size", [16 << 10, 2 << 20, 5 << 20],
                         ids=["few-pages-cleared", "many-pages-discarded", "past-scrub-limit"])
def test_a_recycled_memory_holds_nothing_of_the_closed_sandbox(hostile_lib: Library,
                                                               fresh: bytes, size: int) -> None:
    first = hostile_lib.sandbox("wasm2c", limits=LIMITS)
    initial = first.memory.size
    base = _base(first)
    small = first.copy_in(SECRET)  # inside the initial pages
    block = first.alloc(size)
    block.write(SECRET * (size // len(SECRET)))
    far = block.address + size - 4
    assert plain(first.hostile_ok(1)) == 2
    first.close()

    second = hostile_lib.sandbox("wasm2c", limits=LIMITS)
    try:
        assert _base(second) == base  # the same reservation, recycled
        assert second.memory.size == initial
        assert _image(second) == fresh  # zeros but the data image: no trace of SECRET
        assert small.address == 0  # the old allocation handles are dead
        if far >= initial:  # what the first sandbox grew is inaccessible again
            with pytest.raises(TrapError):
                second.hostile_read_far(far)
    finally:
        second.close()


def test_recycled_memory_after_a_trap_is_clean(hostile_lib: Library, fresh: bytes) -> None:
    first = hostile_lib.sandbox("wasm2c", limits=LIMITS)
    first.copy_in(SECRET)
    with pytest.raises(TrapError):
        first.hostile_unreachable()
    first.close()
    with hostile_lib.sandbox("wasm2c", limits=LIMITS) as second:
        assert _image(second) == fresh


def test_concurrent_create_and_close_never_share_memory(hostile_lib: Library,
                                                        fresh: bytes) -> None:
    errors: list[BaseException] = []

    def worker(tag: int) -> None:
        try:
            for _ in range(50):
                with hostile_lib.sandbox("wasm2c", limits=LIMITS) as sb:
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
    with hostile_lib.sandbox("wasm2c", limits=LIMITS) as sb:
        assert _image(sb) == fresh
