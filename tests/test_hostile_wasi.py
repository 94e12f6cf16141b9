"""A hostile library makes the host work inside WASI calls (c_src/hostile/hostile_wasi.c).

WASI is wasmtime's own on the wasmtime backend and served from Python on wasm2c; on
both, one call must do bounded host work whatever its arguments: iovec counts in
the millions, lengths of hundreds of MB, pointers at or past the end of memory,
loops of calls under a time limit. Every attack runs on each isolating backend and
must end quickly (the wall-time bound only guards against a hang), allocate little
on the Python side (tracemalloc's peak), answer what wasmtime answers and leave a
bystander sandbox working. Where wasmtime traps (a pointer outside memory, a
random_get above 64 MiB), wasm2c answers an errno instead: EFAULT, ENOMEM.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from libs import hostile_package, packages, plain  # noqa: F401 fixtures

from sandboxlib import Grants, Limits, Preopen, ResourceError, SandboxError

MiB = 1 << 20
SUCCESS, EFAULT, EILSEQ, ENAMETOOLONG, ENOMEM = 0, 21, 25, 37, 48  # WASI errno values
HANG_GUARD = 10.0  # seconds; each attack ends well within 1 s once bounded
HOST_PEAK = 8 * MiB  # Python-side allocation during one attacking call
FILL_STEP = 1 << 16  # iovecs written per call of the library (each call stays short)
BAD = 0xFFFFFFF0  # an address far outside any memory the tests grow


@pytest.fixture(scope="session")
def HW(packages: Path) -> ModuleType:
    """The generated package of c_src/hostile/hostile_wasi.h."""
    return hostile_package("hostile_wasi", packages)


@pytest.fixture
def grants(tmp_path: Path) -> Grants:
    return Grants(random=True, env=(("A", "1"),), dirs=(Preopen(str(tmp_path), "/data"),))


# -- setting attacks up in the victim's memory -------------------------------------------


def reserve(lib: Any, size: int) -> int:
    """Where ``size`` fresh bytes at the very end of the memory start."""
    at: int = plain(lib.hostile_wasi_reserve(size))
    assert at, f"the sandbox could not grow by {size} bytes"
    return at


def end_array(lib: Any, entries: int, length: int) -> int:
    """``entries`` iovecs {buffer, length} filling the end of memory (so entries after
    them lie outside it), all pointing at one fresh buffer of ``length`` bytes."""
    buf = reserve(lib, length)
    at = reserve(lib, 8 * entries)
    for first in range(0, entries, FILL_STEP):
        lib.hostile_wasi_fill_iovecs(at + 8 * first, min(FILL_STEP, entries - first), buf, length)
    return at


Prepare = Callable[[Any], Callable[[], Any]]  # sets an attack up; returns the attacking call


def fd_write(count: int, entries: int, length: int, fd: int = 1) -> Prepare:
    def prepare(lib: Any) -> Callable[[], Any]:
        at = end_array(lib, entries, length)
        return lambda: lib.hostile_wasi_fd_write(fd, at, count)
    return prepare


def fd_read(count: int, entries: int, length: int) -> Prepare:
    def prepare(lib: Any) -> Callable[[], Any]:
        at = end_array(lib, entries, length)
        return lambda: lib.hostile_wasi_fd_read(0, at, count)
    return prepare


def loop(count: int, length: int, n: int = 0xFFFFFFFF) -> Prepare:
    def prepare(lib: Any) -> Callable[[], Any]:
        at = end_array(lib, count, length)
        return lambda: lib.hostile_wasi_loop(at, count, n)
    return prepare


def random_get(length: int, in_memory: bool = True) -> Prepare:
    def prepare(lib: Any) -> Callable[[], Any]:
        at = reserve(lib, length) if in_memory else 16
        return lambda: lib.hostile_wasi_random_get(at, length)
    return prepare


def path_open(length: int, start: bytes = b"", fill: bytes = b"a") -> Prepare:
    """path_open of a path of ``length`` bytes: ``start``, then ``fill`` repeated."""
    def prepare(lib: Any) -> Callable[[], Any]:
        at = reserve(lib, length)
        lib.hostile_wasi_fill(at, fill[0], length)
        lib.sandbox.memory.write(at, start)
        return lambda: lib.hostile_wasi_path_open(3, at, length)
    return prepare


def raw(call: Callable[[Any, int], Any]) -> Prepare:
    """An attack needing no set-up; ``call`` gets the library and its memory size."""
    return lambda lib: lambda: call(lib, plain(lib.hostile_wasi_memory_size()))


# -- the attacks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    name: str
    prepare: Prepare
    answers: object | dict[str, object]  # an errno or an error type, or these per backend
    moved: int | None = None  # the byte count the call reported
    timeout: float | None = None

    def answer(self, backend: str) -> object:
        return self.answers[backend] if isinstance(self.answers, dict) else self.answers


TRAPS_ON_WASMTIME = {"wasmtime": SandboxError, "wasm2c": EFAULT}
BUDGET = 128 * MiB  # what one call may make the host handle (wasmtime's hostcall fuel)
LAST_ENTRIES = BUDGET // 8 - 1  # the most iovecs a call takes that leave a byte of budget

ATTACKS = [
    Attack("fd_write of 25M one-byte iovecs (a 200 MB array)",
           fd_write(25_000_000, 25_000_000, 1), ENOMEM),
    Attack("fd_read of 25M one-byte iovecs", fd_read(25_000_000, 25_000_000, 1), ENOMEM),
    Attack("fd_write of 2**32-1 iovecs, one in memory", fd_write(0xFFFFFFFF, 1, 4), ENOMEM),
    Attack("fd_write of 2**32-1 iovecs to a bad descriptor", fd_write(0xFFFFFFFF, 1, 4, fd=99),
           ENOMEM),
    Attack("fd_write of 16M-1 iovecs of one byte", fd_write(LAST_ENTRIES, LAST_ENTRIES, 1),
           SUCCESS, moved=1),
    Attack("fd_write of 16M-1 empty iovecs", fd_write(LAST_ENTRIES, LAST_ENTRIES, 0),
           SUCCESS, moved=0),
    Attack("fd_write of 1M iovecs, the first at the end of memory", fd_write(1 << 20, 1, 4),
           SUCCESS, moved=4),
    Attack("fd_write of 1M empty iovecs running off the end of memory",
           fd_write(1 << 20, 1, 0), TRAPS_ON_WASMTIME),
    Attack("fd_write of no iovecs outside memory",
           raw(lambda lib, size: lib.hostile_wasi_fd_write(1, BAD, 0)), SUCCESS, moved=0),
    Attack("fd_write of an iovec outside memory",
           raw(lambda lib, size: lib.hostile_wasi_fd_write(1, BAD, 1)), TRAPS_ON_WASMTIME),
    Attack("fd_write of one 200 MB iovec", fd_write(1, 1, 200 * MiB), ENOMEM),
    Attack("fd_write of one 100 MiB iovec to the discarded stdout", fd_write(1, 1, 100 * MiB),
           SUCCESS, moved=100 * MiB),
    Attack("fd_read of one 200 MB iovec", fd_read(1, 1, 200 * MiB), ENOMEM),
    Attack("random_get of 200 MB", random_get(200 * MiB), {"wasmtime": SandboxError,
                                                           "wasm2c": ENOMEM}),
    Attack("random_get of 64 MiB", random_get(64 * MiB), SUCCESS),
    Attack("random_get of 4 GiB - 16 bytes", random_get(BAD, in_memory=False),
           {"wasmtime": SandboxError, "wasm2c": ENOMEM}),
    Attack("random_get of no bytes outside memory",
           raw(lambda lib, size: lib.hostile_wasi_random_get(BAD, 0)), SUCCESS),
    Attack("path_open of a 200 MB path", path_open(200 * MiB), ENOMEM),
    Attack("path_open of a 100 MB path ./////...", path_open(100 * MiB, b"./", b"/"),
           ENAMETOOLONG),
    Attack("path_open of a 4096-byte path ./////...", path_open(4096, b"./", b"/"),
           ENAMETOOLONG),
    Attack("path_open of a 4095-byte path ./////... (the longest the kernel opens)",
           path_open(4095, b"./", b"/"), SUCCESS),
    Attack("path_open of a path that is not UTF-8", path_open(8, fill=b"\xff"), EILSEQ),
    Attack("path_open of a 4 GiB path outside memory",
           raw(lambda lib, size: lib.hostile_wasi_path_open(3, 16, BAD)), ENOMEM),
    Attack("fd_prestat_dir_name into 4 GiB",
           raw(lambda lib, size: lib.hostile_wasi_prestat_dir_name(3, 16, 0xFFFFFFFF)), SUCCESS),
    Attack("environ_get with the pointers at the end of memory",
           raw(lambda lib, size: lib.hostile_wasi_environ_get(size - 2, 16)), TRAPS_ON_WASMTIME),
    Attack("a loop of fd_write calls of 16M-1 empty iovecs, under a time limit",
           loop(LAST_ENTRIES, 0), ResourceError, timeout=0.5),
    Attack("a loop of cheap fd_write calls, under a time limit", loop(1, 0), ResourceError,
           timeout=0.2),
]


class Bystander:
    """A second sandbox of the library, with state, checked after an attack."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self.text = lib.copy_in(b"bystander")
        self.iovec = lib.alloc(8)
        lib.hostile_wasi_fill_iovecs(self.iovec.address, 1, self.text.address, 9)
        self.check()

    def check(self) -> None:
        lib = self.lib
        assert lib.poisoned is None
        assert plain(lib.hostile_wasi_fd_write(1, self.iovec.address, 1)) == SUCCESS
        assert plain(lib.hostile_wasi_moved()) == 9
        assert plain(self.text.read()) == b"bystander"


@pytest.fixture
def bystander(HW: ModuleType, isolating_backend: str, grants: Grants) -> Iterator[Bystander]:
    with HW.sandbox(isolating_backend, grants=grants) as lib:
        yield Bystander(lib)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_a_wasi_call_does_bounded_host_work(HW: ModuleType, isolating_backend: str,
                                            grants: Grants, bystander: Bystander,
                                            attack: Attack) -> None:
    with HW.sandbox(isolating_backend, grants=grants,
                    limits=Limits(timeout=attack.timeout)) as victim:
        call = attack.prepare(victim)
        tracemalloc.start()
        start = time.perf_counter()
        try:
            answer: object = plain(call())
        except SandboxError as exc:
            answer = exc
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < HANG_GUARD, f"the call took {elapsed:.1f} s"
        assert peak < HOST_PEAK, f"the host allocated {peak / MiB:.0f} MiB for one call"
        expected = attack.answer(isolating_backend)
        if isinstance(expected, type):
            assert isinstance(answer, expected), answer
            if expected is ResourceError:
                assert "time limit" in str(answer)
        else:
            assert answer == expected
            assert victim.poisoned is None
            if attack.moved is not None:
                assert plain(victim.hostile_wasi_moved()) == attack.moved
    bystander.check()
