"""What the wipe tests' child processes share (tests/test_recycle.py): a secret a
tenant writes, and the next tenant of the same slot reading back as far as the first
had grown."""

from __future__ import annotations

from sandboxlib import Library, Limits, Sandbox

SECRET = b"sandboxlib-secret-" * 64


def slot_base(sb: Sandbox) -> int:
    """The host address of a sandbox's memory: its slot."""
    base: int = sb._instance.memory.region()[0]
    return base


def next_tenant_reads(lib: Library, backend: str, limits: Limits, base: int, grown: int,
                      step: int = 64 << 10, initial: int | None = None) -> bytes:
    """Open the next sandbox of ``limits``, check that it took the slot at ``base`` (at
    its ``initial`` size, if given), grow it ``step`` at a time to ``grown`` bytes and
    read all of it but address 0 (NULL cannot be read)."""
    second = lib.sandbox(backend, limits=limits)
    assert slot_base(second) == base, "not the recycled slot"
    assert initial is None or second.memory.size == initial
    while second.memory.size < grown:
        second.alloc(step)
    return second.memory.read(1, grown - 1)


def assert_no_secret(image: bytes) -> None:
    """Nothing of ``SECRET`` is in ``image``; says "clean" to the parent test."""
    assert SECRET[:18] not in image, "the old tenant's bytes are back"
    print("clean")
