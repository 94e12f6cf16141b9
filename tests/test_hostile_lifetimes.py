"""Hostile C against lifetimes and growth: what a sandbox can reach after it is
closed, what a buffer over its memory can read after that, how far its tables
grow, and how long a call may run when callbacks call back in.

Every test runs on each isolating backend with the generated hostile package.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from libs import H, packages, plain  # noqa: F401 fixtures

from sandboxlib import Grants, Limits, ResourceError, Tainted, TrapError

# -- callbacks after close --------------------------------------------------------------


def test_a_closed_sandbox_reaches_no_callback_not_even_anothers(H: ModuleType,
                                                                isolating_backend: str) -> None:
    """A callback closes its own sandbox; the library goes on and calls a stored
    callback. What the closed sandbox's slots pointed at is freed and reused by
    registrations in another sandbox: none of them may run."""
    spied: list[int] = []

    def spy(v: Tainted[int]) -> int:
        spied.append(v.verify_range(-100, 100))
        return 0

    with H.sandbox(isolating_backend) as other:
        lib = H.sandbox(isolating_backend)
        lib.hostile_store_cb(lib.callback(lambda v: 1, H.hostile_cb, "stored"))
        others: list[object] = []

        def close_and_register_elsewhere(v: Tainted[int]) -> int:
            lib.close()
            gc.collect()
            others.extend(other.callback(spy, H.hostile_cb) for _ in range(64))
            return 0

        with pytest.raises(TrapError, match="unregistered callback") as err:
            lib.hostile_call_then_stored(lib.callback(close_and_register_elsewhere,
                                                      H.hostile_cb), 7)
        assert err.value.kind == "unregistered callback"
        assert spied == []
        assert plain(other.hostile_call(others[0], 5)) == 0 and spied == [5]


def test_closing_from_another_thread_while_the_library_runs(H: ModuleType,
                                                            isolating_backend: str) -> None:
    lib = H.sandbox(isolating_backend)
    lib.hostile_store_cb(lib.callback(lambda v: 1, H.hostile_cb, "stored"))
    entered, closed = threading.Event(), threading.Event()

    def wait_for_the_close(v: Tainted[int]) -> int:
        entered.set()
        assert closed.wait(30)
        return 0

    def close_it() -> None:
        assert entered.wait(30)
        lib.close()
        closed.set()

    closer = threading.Thread(target=close_it)
    closer.start()
    with pytest.raises(TrapError, match="unregistered callback"):
        lib.hostile_call_then_stored(lib.callback(wait_for_the_close, H.hostile_cb), 1)
    closer.join()
    with H.sandbox(isolating_backend) as fresh:
        assert plain(fresh.hostile_ok(4)) == 8


def test_a_copy_of_a_removed_callback_traps(H: ModuleType, isolating_backend: str) -> None:
    """The library copies a callback's table slot, the host unregisters the
    callback: a call through the copy must not reach anything."""
    with H.sandbox(isolating_backend) as lib:
        cb = lib.callback(lambda v: 5, H.hostile_cb, "copied")
        copy = lib.hostile_table_copy_slot(cb.address).verify_range(1, 1 << 20)
        assert plain(lib.hostile_call_slot(copy, 1)) == 5
        cb.unregister()
        with pytest.raises(TrapError, match="unregistered callback"):
            lib.hostile_call_slot(copy, 1)


# -- buffers outliving their sandbox --------------------------------------------------


MINE, SECRET = b"bytes of the first sandbox, its own" * 2, b"another tenant's secret!!!" * 3


def _borrow_slice(lib: Any, block: Any) -> Any:
    return lib.sandbox.borrow(block, 64).unverified_safe_because("a test view")[0:64]


def _view(lib: Any, block: Any) -> Any:
    return lib.sandbox.memory.view(block.address, 64)


def _whole(lib: Any, block: Any) -> Any:
    return lib.sandbox.memory.whole()[block.address:block.address + 64]


def _numpy(lib: Any, block: Any) -> Any:
    np = pytest.importorskip("numpy")
    return np.frombuffer(_view(lib, block), dtype=np.uint8)


def _ctypes(lib: Any, block: Any) -> Any:
    return (ctypes.c_char * 64).from_buffer(lib.sandbox.memory.whole(), block.address)


@pytest.mark.parametrize("make", [_borrow_slice, _view, _whole, _numpy, _ctypes],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_buffer_kept_past_close_shows_only_its_own_sandbox(
        H: ModuleType, isolating_backend: str, make: Callable[[Any, Any], Any]) -> None:
    lib = H.sandbox(isolating_backend)
    block = lib.copy_in(MINE)
    kept = make(lib, block)
    address = block.address
    lib.close()
    del lib, block
    gc.collect()
    with H.sandbox(isolating_backend) as later:  # the next tenant, same layout
        theirs = later.copy_in(SECRET)
        assert theirs.address == address
        assert bytes(kept) == MINE[:64]
        later.hostile_overflow_arg(SECRET, 0)
    gc.collect()
    assert bytes(kept) == MINE[:64]


def test_memory_goes_back_for_reuse_when_the_last_buffer_goes(H: ModuleType,
                                                             isolating_backend: str) -> None:
    """Pinned memory is not leaked: sandboxes closed with views kept and then
    dropped, again and again, keep the process's footprint flat."""
    def cycle() -> None:
        lib = H.sandbox(isolating_backend)
        kept = lib.sandbox.memory.view(lib.copy_in(b"x" * 4096).address, 4096)
        lib.close()
        del lib, kept
    for _ in range(50):
        cycle()
    gc.collect()
    before = _resident()
    for _ in range(300):
        cycle()
    gc.collect()
    assert _resident() - before < 64 << 20


def _resident() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


# -- memory -------------------------------------------------------------------------------


@pytest.mark.parametrize("own_startup", [False, True], ids=["image", "own"])
def test_malloc_past_the_memory_limit_returns_null(H: ModuleType, isolating_backend: str,
                                                   own_startup: bool) -> None:
    """Inside the library, malloc answers NULL once memory.grow is refused at the
    limit, for any size up to what a 32-bit memory could hold; the sandbox lives on."""
    grants = Grants(stdout=True) if own_startup else None
    for chunk in (16, 4000, 70_000, 1 << 20, 5 << 20, 64 << 20, 1 << 31, 0xFFFF0000):
        with H.sandbox(isolating_backend, limits=Limits(memory_bytes=4 << 20),
                       grants=grants) as lib:
            count = lib.hostile_malloc_bomb(chunk).verify_range(0, (4 << 20) // chunk)
            assert lib.sandbox.memory.size <= 4 << 20
            assert plain(lib.hostile_ok(21)) == 42, (chunk, count)
            with pytest.raises(ResourceError, match="exceed the memory limit"):
                lib.alloc(0xFFFFFFF0)  # never asked of a malloc that could get it wrong


# -- tables -------------------------------------------------------------------------------


def test_table_growth_stops_at_the_limit(H: ModuleType, isolating_backend: str) -> None:
    with H.sandbox(isolating_backend, limits=Limits(table_elements=1000)) as lib:
        size = lib.hostile_table_size().verify_range(1, 1000)
        assert plain(lib.hostile_table_grow(1000)) == -1
        gained = lib.hostile_table_bomb(16).verify_range(0, 1000)
        assert size + gained <= 1000 < size + gained + 16
        with pytest.raises(ResourceError, match="table cannot grow.*1000 elements"):
            for _ in range(1000):
                lib.callback(lambda v: 0, H.hostile_cb)
        assert lib.poisoned is None and plain(lib.hostile_ok(2)) == 4


def test_a_table_bomb_under_the_default_limit(H: ModuleType, isolating_backend: str) -> None:
    before = _resident()
    with H.sandbox(isolating_backend) as lib:
        size = lib.hostile_table_size().verify_range(1, 1 << 16)
        gained = lib.hostile_table_bomb(4096).verify_range(0, 1 << 32)
        assert size + gained <= Limits().table_elements
        assert plain(lib.hostile_ok(2)) == 4
    assert _resident() - before < 32 << 20


# -- time ---------------------------------------------------------------------------------


def test_calls_from_a_callback_do_not_extend_the_deadline(H: ModuleType,
                                                          isolating_backend: str) -> None:
    """An expat handler reading the line number calls back into the sandbox: such
    nested calls run under the outer call's deadline, never a fresh one."""
    with H.sandbox(isolating_backend, limits=Limits(timeout=0.3)) as lib:
        def keeps_calling_in(v: Tainted[int]) -> int:
            end = time.monotonic() + 5
            while time.monotonic() < end:
                lib.hostile_ok(1)
                time.sleep(0.01)
            return 0
        start = time.monotonic()
        with pytest.raises(ResourceError, match="time limit"):
            lib.hostile_call(lib.callback(keeps_calling_in, H.hostile_cb), 1)
        assert time.monotonic() - start < 4
