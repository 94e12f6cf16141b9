"""The zlib drop-in's Adler-32 (wasm SIMD128 in the wasm build: zlib/shim/adler32_simd.c)
against CPython's zlib: every length, start value and alignment, and no byte read
outside the span it is given."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ALL_BACKENDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandboxlib.wrapped.zlib as wz
from sandboxlib import TrapError
from sandboxlib.backends import BACKENDS
from sandboxlib.wrapped.zlib import _package

ZBACKENDS = [b for b in ALL_BACKENDS if b in BACKENDS]
MAX_SIZE = 100_000
# zlib's NMAX (5552) and the shim's chunk (5520 bytes of 32-byte blocks) and their
# neighbours: where a sum is reduced, and where it would overflow 32 bits if not.
BORDERS = [31, 32, 33, 63, 64, 5519, 5520, 5521, 5551, 5552, 5553, 5567, 5583, 11040, 11071,
           11104]
STARTS = [0, 1, 0xFFF0FFF0, 0xFFFFFFFF, 0xFFF1FFF1, 0x0000FFF1, 0xFFF10000, 0x12345678]


@pytest.fixture(scope="module", params=ZBACKENDS)
def lib(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The generated zlib package in one sandbox per backend."""
    with _package.sandbox(str(request.param)) as lib:
        yield lib


def _adler32_at(lib: Any, data: bytes, offset: int, start: int) -> int:
    """The sandbox's ``adler32_z`` over ``data`` copied to ``offset`` bytes past an
    allocation's (aligned) start."""
    with lib.alloc(len(data) + offset + 1) as buf:
        buf.write(data, offset)
        result = lib.adler32_z(start, buf.address + offset, len(data))
        return int(result.verify_range(0, 0xFFFFFFFF))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(0, MAX_SIZE) | st.integers(0, 100) | st.sampled_from(BORDERS),
       seed=st.integers(0, 2**32 - 1), fill=st.none() | st.sampled_from([0, 1, 0x80, 0xFF]),
       offset=st.integers(0, 31),
       start=st.integers(0, 0xFFFFFFFF) | st.sampled_from(STARTS))
def test_adler32_matches_cpython(lib: Any, size: int, seed: int, fill: int | None,
                                 offset: int, start: int) -> None:
    data = random.Random(seed).randbytes(size) if fill is None else bytes([fill]) * size
    assert _adler32_at(lib, data, offset, start) == zlib.adler32(data, start)


@pytest.mark.parametrize("start", STARTS)
def test_adler32_largest_sums(lib: Any, start: int) -> None:
    """All-0xFF input makes the sums largest between reductions."""
    for size in [*BORDERS, MAX_SIZE]:
        data = b"\xff" * size
        assert _adler32_at(lib, data, size % 7, start) == zlib.adler32(data, start), size


@pytest.mark.parametrize("backend", ZBACKENDS)
def test_drop_in_adler32_and_inflate_check(backend: str) -> None:
    """``wz.adler32`` in chunks, and inflate checking its stream's Adler-32 with it."""
    data = random.Random(5).randbytes(70_001)
    assert wz.adler32(data, 7, backend=backend) == zlib.adler32(data, 7)
    packed = zlib.compress(data * 3)
    assert wz.decompress(packed, backend=backend) == data * 3
    bad = packed[:-1] + bytes([packed[-1] ^ 1])
    with pytest.raises(wz.error, match="incorrect data check"):
        wz.decompress(bad, backend=backend)


@pytest.mark.parametrize("backend", [b for b in ZBACKENDS if b != "native"])
def test_reads_only_its_span(backend: str) -> None:
    """A span ending at the memory's last byte is summed (no block read past it); one
    byte further traps, and only that sandbox."""
    with _package.sandbox(backend) as lib:
        end = lib.sandbox.memory.size
        for size in (32, 33, 100, 4096):
            expected = zlib.adler32(lib.sandbox.memory.read(end - size, size))
            got = lib.adler32_z(1, end - size, size).verify_range(0, 0xFFFFFFFF)
            assert got == expected
        with pytest.raises(TrapError):
            lib.adler32_z(1, end - 100, 101)
    assert wz.adler32(b"still fine" * 10, backend=backend) == zlib.adler32(b"still fine" * 10)
