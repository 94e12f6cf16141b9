"""sandboxlib.wrapped.lz4: lz4 1.10.0 fetched pinned and wrapped from its own header, used as
python-lz4's block functions are: the same bytes both ways, corrupt input refused."""

from __future__ import annotations

import random

import lz4.block as pylz4
import pytest
from conftest import ALL_BACKENDS
from hypothesis import given, settings
from hypothesis import strategies as st

import sandboxlib.wrapped.lz4 as wl
from sandboxlib import Memory, SandboxError

FEW = settings(max_examples=60, deadline=None, database=None)
DATA = st.one_of(st.binary(max_size=3000), st.binary(max_size=40).map(lambda b: b * 200))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_blocks_are_python_lz4s(backend: str) -> None:
    @FEW
    @given(DATA)
    def check(data: bytes) -> None:
        packed = wl.compress(data, backend=backend)
        assert packed == pylz4.compress(data, store_size=False)
        assert wl.decompress(packed, len(data), backend=backend) == data
        assert pylz4.decompress(packed, uncompressed_size=len(data)) == data
    check()


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_corrupt_blocks_and_wrong_sizes_are_refused(backend: str) -> None:
    data = b"abcdefgh" * 512
    packed = wl.compress(data, backend=backend)

    @FEW
    @given(st.binary(max_size=200), st.integers(0, 9000))
    def check(garbage: bytes, size: int) -> None:
        try:
            out = wl.decompress(garbage, size, backend=backend)
        except wl.LZ4BlockError:
            return
        assert len(out) == size  # what lz4 accepted is exactly what was asked for
    check()
    with pytest.raises(wl.LZ4BlockError, match="not of 4095 bytes"):
        wl.decompress(packed, len(data) - 1, backend=backend)
    with pytest.raises(wl.LZ4BlockError):
        wl.decompress(packed[:-3], len(data), backend=backend)
    with pytest.raises(wl.LZ4BlockError, match="out of range"):
        wl.decompress(packed, -1, backend=backend)
    assert issubclass(wl.LZ4BlockError, SandboxError)
    assert wl.decompress(packed, len(data), backend=backend) == data  # still serving


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_blocks_past_64_kib_are_python_lz4s(backend: str) -> None:
    # past 64 KiB lz4 hashes by its word size: 5 bytes on x86-64, where python-lz4 runs
    rng = random.Random(17)
    words = [rng.randbytes(rng.randint(3, 9)) for _ in range(500)]
    data = b" ".join(rng.choice(words) for _ in range(30000))
    packed = wl.compress(data, backend=backend)
    assert len(data) > 1 << 17 and packed == pylz4.compress(data, store_size=False)
    assert wl.decompress(packed, len(data), backend=backend) == data


def test_memoryview_input_and_a_large_block() -> None:
    data = bytes(range(256)) * 4000  # 1 MB: larger than the first buffers
    packed = wl.compress(memoryview(data), backend="wasm2c")
    assert wl.decompress(memoryview(packed), len(data), backend="wasm2c") == data


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c"])
def test_a_failed_sandbox_is_replaced(backend: str) -> None:
    data = b"replace me " * 100
    packed = wl.compress(data, backend=backend)
    broken = wl._blocks.cached(backend)
    assert broken is not None
    broken.lib.close()  # its next call fails
    with pytest.raises(SandboxError):
        wl.decompress(packed, len(data), backend=backend)
    assert wl._blocks.cached(backend) is not broken
    assert wl.decompress(packed, len(data), backend=backend) == data


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_a_call_re_entered_while_one_runs_gets_a_sandbox_of_its_own(
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module-level call made while another runs on the same thread (from a finalizer,
    a signal handler, a callback) must not use the running call's sandbox: its buffers
    hold the running call's data."""
    outer, inner = bytes(range(256)) * 40, b"the inner call " * 20
    wl.compress(outer, backend=backend)  # the buffers fit both: the inner call would reuse them
    kept = wl._blocks.cached(backend)
    real_read = Memory.read
    nested: list[bytes] = []

    def read(self: Memory, address: int, length: int) -> bytes:
        monkeypatch.setattr(Memory, "read", real_read)  # once: the outer call's last read
        nested.append(wl.compress(inner, backend=backend))  # runs first
        nested.append(wl.decompress(nested[0], len(inner), backend=backend))
        return real_read(self, address, length)

    monkeypatch.setattr(Memory, "read", read)
    assert wl.compress(outer, backend=backend) == pylz4.compress(outer, store_size=False)
    assert nested == [pylz4.compress(inner, store_size=False), inner]
    assert wl._blocks.cached(backend) is kept  # the nested calls' sandbox was not kept
