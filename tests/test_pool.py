"""The sandbox pool: every request gets a sandbox nobody else touched."""

from __future__ import annotations

import time

from libs import sample_library

from sandboxlib import Sandbox
from sandboxlib.runtime.pool import SandboxPool


def test_each_request_gets_a_fresh_sandbox() -> None:
    lib = sample_library()
    with SandboxPool(lambda: lib.sandbox("wasmtime"), size=3) as pool:
        seen: list[Sandbox] = []
        for i in range(10):
            with pool.sandbox() as sb:
                assert all(sb is not old for old in seen)
                p = sb.alloc(16)
                # state left by an earlier request is not visible: fresh memory
                assert sb.memory.read(p.address, 16) == bytes(16)
                sb.memory.write(p.address, b"request %d" % i)
                seen.append(sb)
            assert sb.poisoned is None
        assert all(old._closed for old in seen)
        assert pool.created >= 10


def test_a_poisoned_sandbox_never_comes_back() -> None:
    from libs import hostile_library
    from sandboxlib import TrapError
    lib = hostile_library()
    with SandboxPool(lambda: lib.sandbox("wasmtime"), size=2) as pool:
        with pool.sandbox() as sb:
            try:
                sb.hostile_unreachable()
            except TrapError:
                pass
            bad = sb
        for _ in range(4):
            with pool.sandbox() as sb:
                assert sb is not bad
                assert sb.hostile_ok(2).verify(lambda v: True) == 4


def test_background_refill() -> None:
    lib = sample_library()
    with SandboxPool(lambda: lib.sandbox("wasmtime"), size=2, background=True) as pool:
        for _ in range(3):
            pool.give_back(pool.take())
        deadline = time.monotonic() + 5
        while len(pool._ready) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(pool._ready) == 2
