"""Warm starts of sandboxlib.wrapped.zlib's streams: ``compressobj()``/``decompressobj()``
start from a snapshot taken once per process and initialization, right after
deflateInit2/inflateInit2 and before any caller's data (a dictionary, input) reached
the sandbox; each object still has a sandbox of its own."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator

import pytest

import sandboxlib.wrapped.zlib as wz
from sandboxlib.wrapped.zlib import _core

ISOLATING = ["wasmtime", "wasm2c"]
SECRET = b"TENANT-A-SECRET-dictionary-0123456789" * 8


@pytest.fixture(autouse=True)
def cold() -> Iterator[None]:
    """Each test starts with no warm snapshot kept, and leaves none behind."""
    saved = dict(_core._warm)
    _core._warm.clear()
    yield
    _core._warm.clear()
    _core._warm.update(saved)


def memory_of(obj: wz.Compress | wz.Decompress) -> bytes:
    stream = obj._stream
    assert stream is not None
    return bytes(stream.lib.sandbox.memory.whole())


@pytest.mark.parametrize("backend", ISOLATING)
def test_the_second_stream_starts_warm_and_works_alike(backend: str) -> None:
    data = random.Random(5).randbytes(50_000) + bytes(100_000)
    packed = zlib.compress(data)
    first = wz.decompressobj(backend=backend)
    assert first._stream is not None and not first._stream.ready
    assert first.decompress(packed) + first.flush() == data
    for other in ISOLATING:  # a snapshot is data: it starts sandboxes on either backend
        second = wz.decompressobj(backend=other)
        assert second._stream is not None and second._stream.ready
        assert second.decompress(packed[:1000]) + second.decompress(packed[1000:]) == data
        twin = second.copy()  # a copy shares the sandbox, then frees its own blocks
        assert second.flush() == twin.flush() == b"" and second.eof and twin.eof
    c = wz.compressobj(9, backend=backend)
    assert c.compress(data) + c.flush() == zlib.compress(data, 9)
    warm = wz.compressobj(9, backend=backend)
    assert warm._stream is not None and warm._stream.ready
    assert warm.compress(data) + warm.flush() == zlib.compress(data, 9)


@pytest.mark.parametrize("backend", ISOLATING)
def test_a_warm_start_carries_no_tenants_data(backend: str) -> None:
    """The first object of a kind (whose sandbox the snapshot is taken from) sets a
    dictionary and decompresses; none of it reaches the next objects' sandboxes."""
    text = b"the first tenant's document, " * 2000
    c = zlib.compressobj(zdict=SECRET, wbits=-12)
    raw = c.compress(text) + c.flush()
    first = wz.decompressobj(-12, zdict=SECRET, backend=backend)
    assert first.decompress(raw) == text
    assert SECRET[:32] in memory_of(first) and text[:58] in memory_of(first)
    assert _core._warm and all(w is not None and SECRET[:32] not in
                                b"".join(data for _, data in w.snapshot.chunks)
                                for w in _core._warm.values())
    second = wz.decompressobj(-12, backend=backend)
    assert second._stream is not None and second._stream.ready
    seen = memory_of(second)
    assert SECRET[:32] not in seen and text[:58] not in seen
    packer = wz.compressobj(wbits=-11, zdict=SECRET, backend=backend)
    packer.compress(text)
    after = wz.compressobj(wbits=-11, backend=backend)
    assert after._stream is not None and after._stream.ready
    assert SECRET[:32] not in memory_of(after) and text[:58] not in memory_of(after)
    assert after.compress(b"x") + after.flush() == zlib.compress(b"x", wbits=-11)


def test_a_bad_initialization_is_never_kept() -> None:
    with pytest.raises(ValueError, match="Invalid initialization option"):
        wz.compressobj(level=42, backend="wasm2c")
    with pytest.raises(ValueError, match="Invalid initialization option"):
        wz.decompressobj(wbits=99, backend="wasm2c")
    assert not _core._warm


def test_warm_keys_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "WARM_KEYS", 2)
    for wbits in (9, 10, 11):
        d = wz.decompressobj(wbits, backend="wasm2c")
        assert d.decompress(zlib.compress(b"abc" * 100, wbits=wbits)) == b"abc" * 100
    assert sorted(_core._warm) == [("inflate", 9), ("inflate", 10)]
    cold = wz.decompressobj(11, backend="wasm2c")
    assert cold._stream is not None and not cold._stream.ready


def test_native_streams_start_cold() -> None:
    for _ in range(2):
        d = wz.decompressobj(backend="native")
        assert d._stream is not None and not d._stream.ready
        assert d.decompress(zlib.compress(b"n")) == b"n"
    assert not _core._warm
