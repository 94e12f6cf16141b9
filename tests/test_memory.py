"""Bounds checks on every access to sandbox memory (isolating backends)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandboxlib import BoundsError, Library, Sandbox, TaintError


@pytest.fixture
def hostile(hostile_lib: Library, isolating_backend: str) -> Iterator[Sandbox]:
    with hostile_lib.sandbox(isolating_backend) as sb:
        yield sb


def test_span_past_the_end_is_refused(hostile: Sandbox) -> None:
    size = hostile.memory.size
    assert hostile.memory.read(size - 4, 4) is not None  # the last bytes are readable
    for address, length in [(size - 3, 4), (size, 1), (size + 100, 0), (size - 1, 2)]:
        with pytest.raises(BoundsError, match="outside"):
            hostile.memory.read(address, length)
        with pytest.raises(BoundsError):
            hostile.memory.write(address, b"x" * length)


def test_address_plus_length_overflow_is_refused(hostile: Sandbox) -> None:
    # In 32-bit arithmetic 0xFFFFFFF0 + 0x20 wraps to 0x10, a valid address.
    with pytest.raises(BoundsError):
        hostile.memory.read(0xFFFFFFF0, 0x20)
    with pytest.raises(BoundsError):
        hostile.memory.read(0x10, 0xFFFFFFFF)
    with pytest.raises(BoundsError):
        hostile.memory.read(-16, 32)
    with pytest.raises(BoundsError):
        hostile.memory.read(16, -1)


def test_null_is_refused(hostile: Sandbox) -> None:
    with pytest.raises(BoundsError, match="NULL"):
        hostile.memory.read(0, 4)


def test_wild_pointer_from_the_library(hostile: Sandbox) -> None:
    p = hostile.hostile_wild_pointer()
    with pytest.raises(BoundsError):
        p.copy_bytes(4)
    with pytest.raises(BoundsError):
        p.copy_string(10)


def test_string_running_off_the_end_of_memory(hostile: Sandbox) -> None:
    p = hostile.hostile_pointer_near_end()
    assert p.copy_bytes(4).unverified_safe_because("test") == b"AAAA"
    with pytest.raises(BoundsError, match="without a NUL"):
        p.copy_string(1 << 20)


def test_unterminated_string_is_cut_at_max_len(hostile: Sandbox) -> None:
    p = hostile.hostile_unterminated()
    with pytest.raises(TaintError, match="longer than max_len"):
        p.copy_string(100)


def test_checks_follow_the_current_memory_size(hostile: Sandbox) -> None:
    before = hostile.memory.size
    with pytest.raises(BoundsError):
        hostile.memory.read(before + 16, 16)
    hostile.alloc(4 * before)  # the sandbox's malloc grows memory
    after = hostile.memory.size
    assert after > before
    assert len(hostile.memory.read(before + 16, 16)) == 16
