"""Warm snapshots (sandboxlib/runtime/snapshot.py): new sandboxes start in the state the
host brought one to, on either isolating backend, each independent of the others; a
snapshot holds nothing it may not (a grant's data, another tenant's, a poisoned or
busy state) and a sandbox started from one runs under its own limits."""

from __future__ import annotations

import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from libs import BINOP, C_SRC, import_from, plain

from sandboxlib import (Grants, Library, Limits, PoisonedError, Preopen, ResourceError,
                        Sandbox, SandboxError)
from sandboxlib.codegen.generate import WrapRequest, wrap
from sandboxlib.runtime.snapshot import CHUNK

ISOLATING = ["wasmtime", "wasm2c"]
MiB = 1 << 20


def greeting(sb: Sandbox, name: bytes) -> tuple[int, bytes]:
    """A string the library allocates on its heap: its address and contents."""
    pointer = sb.sample_greet(name)
    return pointer.unverified_safe_because("compared in the test"), \
        plain(pointer.copy_string(64))


@pytest.mark.parametrize("taken_on", ISOLATING)
@pytest.mark.parametrize("started_on", ISOLATING)
def test_a_new_sandbox_starts_in_the_captured_state(sample_lib: Library, taken_on: str,
                                                    started_on: str) -> None:
    with sample_lib.sandbox(taken_on) as origin:
        address, text = greeting(origin, b"snapshot")
        big = origin.copy_in(b"\x5a" * (3 * MiB))  # the memory grew past the image's
        snap = origin.snapshot()
        after_in_origin = greeting(origin, b"next")
    assert snap.pages * 65536 >= 3 * MiB and snap.size % CHUNK == 0
    with snap.sandbox(started_on) as fresh:
        assert fresh.backend.name == started_on
        assert fresh.memory.read(address, len(text) + 1) == text + b"\0"
        assert fresh.memory.read(big.address + 3 * MiB - 4, 4) == b"\x5a" * 4
        assert greeting(fresh, b"next") == after_in_origin  # the allocator's state came too


def test_sandboxes_from_one_snapshot_are_independent(sample_lib: Library) -> None:
    with sample_lib.sandbox("wasm2c") as origin:
        kept = origin.copy_in(b"shared start")
        snap = origin.snapshot()
        with snap.sandbox() as a, snap.sandbox("wasmtime") as b:
            a.memory.write(kept.address, b"changed in a")
            assert b.memory.read(kept.address, 12) == b"shared start"
            assert origin.memory.read(kept.address, 12) == b"shared start"
        with snap.sandbox() as c:
            assert c.memory.read(kept.address, 12) == b"shared start"


def test_a_proxy_snapshot_starts_proxies(tmp_path: Path) -> None:
    d = C_SRC / "sample"
    wrap(WrapRequest("snapsample", [d / "sample.h"], [d / "sample.c"]), tmp_path)
    package: ModuleType = import_from(tmp_path, "snapsample")
    with package.sandbox("wasmtime") as lib:
        name = lib.sample_greet(b"proxy")
        snap = lib.snapshot()
    with snap.sandbox("wasm2c") as again:
        assert type(again) is type(lib)
        assert plain(again.sample_strlen(name.unverified_safe_because("its own"))) == 13


def test_a_snapshot_starts_under_the_new_sandboxs_limits(sample_lib: Library) -> None:
    with sample_lib.sandbox("wasmtime", limits=Limits(memory_bytes=64 * MiB)) as origin:
        origin.copy_in(bytes(8 * MiB))
        snap = origin.snapshot()
    with pytest.raises(ResourceError, match="do not fit"):
        snap.sandbox(limits=Limits(memory_bytes=4 * MiB))
    with snap.sandbox(limits=Limits(memory_bytes=64 * MiB, fuel=100)) as limited:
        with pytest.raises(ResourceError, match="fuel"):
            limited.sample_checksum(bytes(100_000), 100_000)


# -- what a snapshot may not hold ---------------------------------------------------


def refused(sb: Sandbox, reason: str) -> None:
    with pytest.raises(SandboxError, match=reason):
        sb.snapshot()


def test_the_native_backend_has_no_sandbox_memory_to_capture(sample_lib: Library) -> None:
    with sample_lib.sandbox("native") as sb:
        refused(sb, "native backend")


@pytest.mark.parametrize("backend", ISOLATING)
def test_a_poisoned_or_closed_sandbox_is_refused(hostile_lib: Library, backend: str) -> None:
    sb = hostile_lib.sandbox(backend)
    with pytest.raises(SandboxError):
        sb.hostile_unreachable()
    with pytest.raises(PoisonedError):
        sb.snapshot()
    sb.close()
    with pytest.raises(PoisonedError, match="closed"):
        sb.snapshot()


@pytest.mark.parametrize("backend", ISOLATING)
def test_a_sandbox_running_a_call_is_refused(sample_lib: Library, backend: str) -> None:
    with sample_lib.sandbox(backend) as sb:
        seen: list[str] = []

        def op(a: Any, b: Any) -> int:
            try:
                sb.snapshot()
            except SandboxError as exc:
                seen.append(str(exc))
            return 0
        cb = sb.callback(op, BINOP)
        sb.sample_fold(sb.copy_in(struct.pack("=2i", 1, 2)), 2, cb, 0)
        sb.close()
    assert seen and all("running a call" in s for s in seen), seen


def test_callbacks_and_handles_are_the_hosts_and_refused(sample_lib: Library) -> None:
    with sample_lib.sandbox("wasmtime") as sb:
        cb = sb.callback(lambda a, b: 0, BINOP)
        refused(sb, "callbacks or handles")
        assert cb.address
    with sample_lib.sandbox("wasmtime") as sb:
        sb.handles.new(object())
        refused(sb, "callbacks or handles")


def test_a_granted_sandbox_is_refused(sample_lib: Library, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("granted data")
    grants = Grants(dirs=(Preopen(str(tmp_path), "/data"),))
    with sample_lib.sandbox("wasmtime", grants=grants) as sb:
        refused(sb, "granted")


@pytest.mark.parametrize("backend", ISOLATING)
def test_a_snapshot_carries_nothing_of_a_slots_previous_tenant(sample_lib: Library,
                                                                backend: str) -> None:
    secret = b"TENANT-A-SECRET-0123456789"
    with sample_lib.sandbox(backend) as clean:
        clean.copy_in(b"the snapshot's own data")
        snap = clean.snapshot()
    for _ in range(4):  # tenants that write a secret everywhere they can, then leave
        with sample_lib.sandbox(backend) as tenant:
            tenant.copy_in(secret * (MiB // len(secret)))
    for _ in range(4):
        with snap.sandbox(backend) as fresh:
            assert secret not in bytes(fresh.memory.whole())


def test_another_librarys_snapshot_is_refused(sample_lib: Library,
                                              hostile_lib: Library) -> None:
    with sample_lib.sandbox("wasmtime") as sb:
        snap = sb.snapshot()
    with pytest.raises(SandboxError, match="its own library"):
        Sandbox(hostile_lib, "wasmtime", snapshot=snap)
