"""Traps, limits and capabilities, tested with hostile C compiled to wasm."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs import plain

from sandboxlib import (CapabilityError, Grants, Library, Limits, PoisonedError, Preopen,
                        Prim, ResourceError, Sandbox, Signature, TrapError)



@pytest.fixture
def hostile(hostile_lib: Library, isolating_backend: str) -> Iterator[Sandbox]:
    with hostile_lib.sandbox(isolating_backend) as sb:
        yield sb


# Unbounded recursion exhausts one of two stacks, whichever the compiler's frame sizes
# make run out first: the native one (a stack overflow) or the module's own in its
# memory (its pointer wraps below 0: an out-of-bounds access).
RECURSION = "stack overflow|out-of-bounds memory access"


@pytest.mark.parametrize("attack,args,kind", [
    ("hostile_unreachable", (), "unreachable"),
    ("hostile_read_far", (0xFFFFFFF0,), "out-of-bounds memory access"),
    ("hostile_divide", (1, 0), "integer division by zero"),
    ("hostile_divide", (-2**31, -1), "integer overflow"),
    ("hostile_recurse", (0,), RECURSION),
])
def test_trap_poisons_only_its_own_sandbox(hostile_lib: Library, isolating_backend: str,
                                           attack: str, args: tuple[int, ...], kind: str) -> None:
    with hostile_lib.sandbox(isolating_backend) as victim, \
            hostile_lib.sandbox(isolating_backend) as bystander:
        assert plain(victim.hostile_ok(20)) == 40
        with pytest.raises(TrapError) as err:
            getattr(victim, attack)(*args)
        assert err.value.kind in kind.split("|") and attack in str(err.value)
        assert victim.poisoned is not None
        with pytest.raises(PoisonedError):
            victim.hostile_ok(1)
        with pytest.raises(PoisonedError):
            victim.alloc(16)
        assert plain(bystander.hostile_ok(21)) == 42
    with hostile_lib.sandbox(isolating_backend) as fresh:
        assert plain(fresh.hostile_ok(5)) == 10


def test_memory_limit(hostile_lib: Library, isolating_backend: str) -> None:
    limit = 2 << 20
    with hostile_lib.sandbox(isolating_backend, limits=Limits(memory_bytes=limit)) as sb:
        count = plain(sb.hostile_malloc_bomb(64 << 10))
        assert isinstance(count, int) and 0 < count < limit // (64 << 10)
        assert sb.memory.size <= limit
        with pytest.raises(ResourceError, match="could not allocate"):
            sb.alloc(limit)
        assert plain(sb.hostile_ok(2)) == 4  # a refused allocation does not poison


def test_cpu_limit_fuel(hostile_lib: Library, isolating_backend: str) -> None:
    with hostile_lib.sandbox(isolating_backend, limits=Limits(fuel=5_000_000)) as sb:
        assert plain(sb.hostile_ok(1)) == 2
        with pytest.raises(ResourceError, match="fuel"):
            sb.hostile_spin()
        assert sb.poisoned is not None


def test_cpu_limit_timeout(hostile_lib: Library, isolating_backend: str) -> None:
    with hostile_lib.sandbox(isolating_backend, limits=Limits(timeout=0.2)) as sb:
        assert plain(sb.hostile_ok(1)) == 2
        start = time.monotonic()
        with pytest.raises(ResourceError, match="time limit"):
            sb.hostile_spin()
        assert time.monotonic() - start < 10


def test_no_stdout_without_a_grant(hostile_lib: Library, isolating_backend: str,
                                   capfd: pytest.CaptureFixture[str]) -> None:
    with hostile_lib.sandbox(isolating_backend) as sb:
        sb.hostile_print("secret-denied")
    assert "secret-denied" not in capfd.readouterr().out
    with hostile_lib.sandbox(isolating_backend, grants=Grants(stdout=True)) as sb:
        assert plain(sb.hostile_print("hello-granted")) == len("hello-granted") + 1
    assert "hello-granted" in capfd.readouterr().out


def test_no_files_without_a_grant(hostile_lib: Library, isolating_backend: str,
                                  tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_bytes(b"granted contents")
    for path in ["/etc/passwd", str(tmp_path / "data.txt"), "data.txt", "/data/data.txt"]:
        with hostile_lib.sandbox(isolating_backend) as sb, sb.alloc(64) as out:
            assert plain(sb.hostile_read_file(path, out, 64)) == -1
    grants = Grants(dirs=(Preopen(str(tmp_path), "/data"),))
    with hostile_lib.sandbox(isolating_backend, grants=grants) as sb, sb.alloc(64) as out:
        assert plain(sb.hostile_read_file("/data/data.txt", out, 64)) == 16
        assert plain(out.read(16)) == b"granted contents"
        assert plain(sb.hostile_read_file("/etc/passwd", out, 64)) == -1


def test_read_only_directory_grant(hostile_lib: Library, isolating_backend: str,
                                   tmp_path: Path) -> None:
    fn = hostile_lib.function("hostile_read_file")
    assert fn is not None
    grants = Grants(dirs=(Preopen(str(tmp_path), "/data", writable=False),))
    with hostile_lib.sandbox(isolating_backend, grants=grants) as sb, sb.alloc(8) as out:
        assert plain(sb.hostile_read_file("/data/missing", out, 8)) == -1
    assert os.listdir(tmp_path) == []


def test_clock_random_and_env_are_denied_by_default(hostile_lib: Library,
                                                    isolating_backend: str) -> None:
    os.environ["SANDBOXLIB_TEST_SECRET"] = "s3cret"
    with hostile_lib.sandbox(isolating_backend) as sb:
        assert plain(sb.hostile_clock()) == -1
        assert plain(sb.hostile_random()) == -1
        assert sb.hostile_getenv("SANDBOXLIB_TEST_SECRET").is_null()
    grants = Grants(clock=True, random=True, env=Grants.env_from_host("SANDBOXLIB_TEST_SECRET"))
    with hostile_lib.sandbox(isolating_backend, grants=grants) as sb:
        assert abs(plain(sb.hostile_clock()) - time.time()) < 60
        assert plain(sb.hostile_random()) == 1
        value = sb.hostile_getenv("SANDBOXLIB_TEST_SECRET")
        assert plain(value.copy_string(32)) == b"s3cret"


def test_callbacks_can_be_unregistered(hostile: Sandbox) -> None:
    cb = hostile.callback(lambda v: v.verify(lambda x: x < 100) + 1,
                          Signature((Prim.INT,), Prim.INT))
    assert plain(hostile.hostile_call(cb, 41)) == 42
    slot = cb.address
    cb.unregister()
    with pytest.raises(TrapError):
        hostile.hostile_call_slot(slot, 1)


def test_unknown_import_is_a_capability_error(tmp_path: Path) -> None:
    src = tmp_path / "needs.c"
    src.write_text('__attribute__((import_module("env"), import_name("host_secret")))\n'
                   "int host_secret(void);\nint f(void) { return host_secret(); }\n")
    from libs import fn
    lib = Library("needs", (fn("f", Prim.INT),), sources=(src,))
    with pytest.raises(CapabilityError, match="host_secret"):
        lib.sandbox("wasmtime")
