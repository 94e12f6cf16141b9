"""sandboxlib.wrapped.zlib against CPython's zlib (the same zlib 1.2.13): identical bytes,
identical streaming semantics, and hostile input that cannot hurt the host."""

from __future__ import annotations

import copy
import random
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import ALL_BACKENDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandboxlib.wrapped.zlib as wz
from sandboxlib import SandboxError
from sandboxlib.backends import BACKENDS
from sandboxlib.wrapped.zlib import _core, _package

ZBACKENDS = [b for b in ALL_BACKENDS if b in BACKENDS]
ISOLATING = [b for b in ZBACKENDS if b != "native"]
LEVELS = [-1, *range(10)]


def _text(rng: random.Random, size: int) -> bytes:
    words = [bytes(rng.choices(b"etaoinshrdlucmfwyp", k=rng.randint(1, 9)))
             for _ in range(500)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + rng.choice([b" ", b" ", b", ", b".\n"])
    return bytes(out[:size])


def _corpus() -> dict[str, bytes]:
    rng = random.Random(7)
    text = _text(rng, 200_000)
    noise = rng.randbytes(100_000)
    large = b"".join([_text(rng, 700_000), rng.randbytes(300_000), b"ab" * 300_000,
                      bytes(400_000), _text(rng, 500_000)])
    return {"empty": b"", "byte": b"x", "text": text, "random": noise,
            "repetitive": b"abcabcabd" * 20_000, "zeros": bytes(150_000),
            "mixed": text[:50_000] + noise[:30_000] + bytes(40_000), "large": large}


CORPUS = _corpus()


@pytest.fixture(scope="module", params=ZBACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend sandboxlib has (wasm2c only where it exists)."""
    return str(request.param)


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or (exception kind, message): zlib.error and wz.error match."""
    try:
        return "ok", fn()
    except (zlib.error, wz.error) as exc:
        return "zlib.error", str(exc)
    except (ValueError, TypeError, OverflowError) as exc:
        return type(exc).__name__, str(exc)


# -- one-shot: identical bytes --------------------------------------------------------


def test_public_surface_matches_cpython() -> None:
    public = {n for n in dir(zlib) if not n.startswith("_")}
    assert public <= set(dir(wz))
    for name in public:
        value = getattr(zlib, name)
        if isinstance(value, (int, str)):
            assert getattr(wz, name) == value, name
    assert issubclass(wz.error, SandboxError)


def test_runtime_version() -> None:
    assert wz.ZLIB_RUNTIME_VERSION == zlib.ZLIB_RUNTIME_VERSION == wz.ZLIB_VERSION


@pytest.mark.parametrize("name", list(CORPUS))
def test_compress_every_level_identical(backend: str, name: str) -> None:
    data = CORPUS[name]
    for level in LEVELS:
        got = wz.compress(data, level, backend=backend)
        assert got == zlib.compress(data, level), (name, level)
    assert wz.decompress(got, backend=backend) == data


@pytest.mark.parametrize("wbits", [-15, -9, 9, 12, 15, 25, 31])
def test_compress_wbits_identical(backend: str, wbits: int) -> None:
    for name in ("text", "random", "mixed"):
        data = CORPUS[name]
        for level in (0, 1, 6, 9):
            got = wz.compress(data, level, wbits, backend=backend)
            assert got == zlib.compress(data, level, wbits), (name, level)
            assert wz.decompress(got, wbits, backend=backend) == data


@pytest.mark.parametrize("strategy", [wz.Z_DEFAULT_STRATEGY, wz.Z_FILTERED,
                                      wz.Z_HUFFMAN_ONLY, wz.Z_RLE, wz.Z_FIXED])
def test_strategies_and_mem_levels_identical(backend: str, strategy: int) -> None:
    data = CORPUS["mixed"]
    for level, wbits, mem_level in ((1, 15, 8), (6, -12, 1), (9, 31, 9), (0, 15, 8)):
        ours = wz.compressobj(level, wz.DEFLATED, wbits, mem_level, strategy, backend=backend)
        theirs = zlib.compressobj(level, zlib.DEFLATED, wbits, mem_level, strategy)
        assert ours.compress(data) + ours.flush() == theirs.compress(data) + theirs.flush()


@pytest.mark.parametrize("wbits", [15, -15, 31, 47, 0])
def test_decompress_formats(backend: str, wbits: int) -> None:
    data = CORPUS["text"]
    packed = zlib.compress(data, 6, {15: 15, -15: -15, 31: 31, 47: 31, 0: 15}[wbits])
    assert wz.decompress(packed, wbits, backend=backend) == zlib.decompress(packed, wbits)
    for bufsize in (0, 1, 7, 1 << 40):
        assert wz.decompress(packed, wbits, bufsize, backend=backend) == data
    tail = packed + b"trailing garbage"  # ignored by zlib.decompress, and by ours
    assert wz.decompress(tail, wbits, backend=backend) == data


def test_buffer_types(backend: str) -> None:
    data = CORPUS["text"][:10_000]
    packed = zlib.compress(data)
    for buf in (bytearray(data), memoryview(data), memoryview(data)[::1]):
        assert wz.compress(buf, backend=backend) == packed
    words = memoryview(bytearray(data[:4000])).cast("I")
    assert wz.compress(words, backend=backend) == zlib.compress(words)
    assert wz.crc32(words, backend=backend) == zlib.crc32(words)


@pytest.mark.parametrize("fn", ["crc32", "adler32"])
def test_checksums(backend: str, fn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ours, theirs = getattr(wz, fn), getattr(zlib, fn)
    for name in ("empty", "byte", "text", "random"):
        data = CORPUS[name]
        assert ours(data, backend=backend) == theirs(data)
        for start in (0, 1, 12345, 0xFFFFFFFF, -1, 2**40 + 3):
            assert ours(data, start, backend=backend) == theirs(data, start)
    running = 0 if fn == "crc32" else 1
    for piece in (b"ab", b"", b"cdef" * 1000):
        running = ours(piece, running, backend=backend)
    assert running == theirs(b"ab" + b"cdef" * 1000)
    monkeypatch.setattr(wz, "CHECKSUM_CHUNK", 1000)  # chunked through one sandbox buffer
    assert ours(CORPUS["random"], 77, backend=backend) == theirs(CORPUS["random"], 77)


# -- streaming ----------------------------------------------------------------------


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize("size", [1, 7, 4093, 65536])
def test_compressobj_chunks_and_flush_modes(backend: str, size: int) -> None:
    data = CORPUS["mixed"][:3000] if size == 1 else CORPUS["mixed"]
    modes = [wz.Z_NO_FLUSH, wz.Z_SYNC_FLUSH, wz.Z_FULL_FLUSH, wz.Z_PARTIAL_FLUSH, wz.Z_BLOCK]
    for level in (0, 6):
        ours, theirs = wz.compressobj(level, backend=backend), zlib.compressobj(level)
        for i, chunk in enumerate(_chunks(data, size)):
            assert ours.compress(chunk) == theirs.compress(chunk), (level, i)
            if i % 5 == 4:
                mode = modes[(i // 5) % len(modes)]
                assert ours.flush(mode) == theirs.flush(mode), (level, i, mode)
        assert ours.flush() == theirs.flush()
        assert outcome(lambda: ours.compress(b"x")) == outcome(lambda: theirs.compress(b"x"))
        assert outcome(ours.flush) == outcome(theirs.flush)
        assert ours.flush(wz.Z_NO_FLUSH) == b""


@pytest.mark.parametrize("size", [1, 7, 4093])
def test_decompressobj_chunks(backend: str, size: int) -> None:
    data = CORPUS["text"][:4000] if size == 1 else CORPUS["text"]
    packed = zlib.compress(data, 9) + b"unused!"
    ours, theirs = wz.decompressobj(backend=backend), zlib.decompressobj()
    got = bytearray()
    for chunk in _chunks(packed, size):
        piece = ours.decompress(chunk)
        assert piece == theirs.decompress(chunk)
        assert (ours.eof, ours.unused_data, ours.unconsumed_tail) == \
            (theirs.eof, theirs.unused_data, theirs.unconsumed_tail)
        got += piece
    assert ours.flush() == theirs.flush()
    assert bytes(got) == data and ours.eof and ours.unused_data == b"unused!"


def _drain_both(ours: Any, theirs: Any, packed: bytes, max_length: int) -> None:
    """Feed the same input and unconsumed tails to both; every step must match."""
    pending = [packed]
    steps = 0
    while pending and steps < 10_000:
        chunk = pending.pop()
        a = ours.decompress(chunk, max_length)
        b = theirs.decompress(chunk, max_length)
        assert a == b, steps
        state = (ours.eof, ours.unused_data, ours.unconsumed_tail)
        assert state == (theirs.eof, theirs.unused_data, theirs.unconsumed_tail), steps
        if ours.unconsumed_tail and not ours.eof:
            pending.append(ours.unconsumed_tail)
        steps += 1
    assert ours.flush() == theirs.flush()
    assert (ours.eof, ours.unused_data, ours.unconsumed_tail) == \
        (theirs.eof, theirs.unused_data, theirs.unconsumed_tail)


@pytest.mark.parametrize("max_length", [1, 7, 100, 4093, 40_000, 100_000])
def test_max_length_and_unconsumed_tail(backend: str, max_length: int) -> None:
    data = CORPUS["mixed"]
    packed = zlib.compress(data, 6) + b"tail bytes"
    ours, theirs = wz.decompressobj(backend=backend), zlib.decompressobj()
    if max_length == 1:  # one byte at a time: a short prefix is enough
        packed = packed[:300]
    _drain_both(ours, theirs, packed, max_length)
    # After the end, CPython's quirks (input goes to unused_data) are kept.
    after: list[Callable[[Any], Any]] = [lambda o: o.decompress(b"more", 3),
                                         lambda o: o.flush(), lambda o: o.flush()]
    for fn in after:
        assert outcome(lambda: fn(ours)) == outcome(lambda: fn(theirs))
    assert (ours.unused_data, ours.unconsumed_tail) == (theirs.unused_data,
                                                        theirs.unconsumed_tail)


def test_decompressobj_end_of_stream_quirks(backend: str) -> None:
    packed = zlib.compress(b"hello world" * 100) + b"xyz"
    ours, theirs = wz.decompressobj(backend=backend), zlib.decompressobj()
    steps: list[Callable[[Any], Any]] = [
        lambda o: o.decompress(packed, 5), lambda o: o.decompress(o.unconsumed_tail),
        lambda o: o.decompress(b"more"), lambda o: o.flush(),
        lambda o: o.decompress(b"again"), lambda o: o.flush(), lambda o: o.flush(1),
    ]
    for i, step in enumerate(steps):
        assert outcome(lambda: step(ours)) == outcome(lambda: step(theirs)), i
        assert (ours.eof, ours.unused_data, ours.unconsumed_tail) == \
            (theirs.eof, theirs.unused_data, theirs.unconsumed_tail), i


def test_zdict(backend: str) -> None:
    zdict = b"the quick brown fox jumps over the lazy dog " * 20
    data = b"the lazy dog jumps over the quick brown fox" * 30
    for wbits in (15, -15):
        ours = wz.compressobj(9, wz.DEFLATED, wbits, zdict=zdict, backend=backend)
        theirs = zlib.compressobj(9, zlib.DEFLATED, wbits, zdict=zdict)
        packed = ours.compress(data) + ours.flush()
        assert packed == theirs.compress(data) + theirs.flush()
        d = wz.decompressobj(wbits, zdict=zdict, backend=backend)
        assert d.decompress(packed) + d.flush() == data
        wrong = wz.decompressobj(wbits, zdict=b"something else", backend=backend)
        right = zlib.decompressobj(wbits, zdict=b"something else")
        assert outcome(lambda: wrong.decompress(packed)) == \
            outcome(lambda: right.decompress(packed))
    needs = zlib.compressobj(zdict=zdict)
    packed = needs.compress(data) + needs.flush()
    assert outcome(lambda: wz.decompressobj(backend=backend).decompress(packed)) == \
        outcome(lambda: zlib.decompressobj().decompress(packed))
    assert outcome(lambda: wz.decompress(packed, backend=backend)) == \
        outcome(lambda: zlib.decompress(packed))


def test_copy(backend: str) -> None:
    data = CORPUS["text"][:50_000]
    ours, theirs = wz.compressobj(backend=backend), zlib.compressobj()
    assert ours.compress(data[:20_000]) == theirs.compress(data[:20_000])
    ours2, theirs2 = ours.copy(), theirs.copy()
    assert ours.compress(data[20_000:]) + ours.flush() == \
        theirs.compress(data[20_000:]) + theirs.flush()
    assert ours2.compress(b"different") + ours2.flush() == \
        theirs2.compress(b"different") + theirs2.flush()
    assert outcome(ours.copy) == outcome(theirs.copy)  # after the end: ValueError

    packed = zlib.compress(data)
    d = wz.decompressobj(backend=backend)
    first = d.decompress(packed[:1000])
    d2 = copy.copy(d)
    d3 = copy.deepcopy(d)
    rest = packed[1000:]
    assert first + d.decompress(rest) == data
    assert first + d2.decompress(rest) + d2.flush() == data
    del d2
    assert first + d3.decompress(rest) == data


# -- hypothesis: random data, random chunkings ------------------------------------------

_SETTINGS = settings(max_examples=20, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(data=st.binary(max_size=3000) | st.builds(lambda n, b: b * n, st.integers(1, 500),
                                                 st.binary(min_size=1, max_size=8)),
       level=st.sampled_from(LEVELS), sizes=st.lists(st.integers(1, 600), min_size=1,
                                                     max_size=6),
       flush=st.sampled_from([zlib.Z_NO_FLUSH, zlib.Z_SYNC_FLUSH, zlib.Z_FULL_FLUSH]))
def test_hypothesis_compress_stream(backend: str, data: bytes, level: int, sizes: list[int],
                                    flush: int) -> None:
    assert wz.compress(data, level, backend=backend) == zlib.compress(data, level)
    ours, theirs = wz.compressobj(level, backend=backend), zlib.compressobj(level)
    pos, i = 0, 0
    while pos < len(data):
        chunk = data[pos:pos + sizes[i % len(sizes)]]
        assert ours.compress(chunk) == theirs.compress(chunk)
        assert ours.flush(flush) == theirs.flush(flush)
        pos, i = pos + len(chunk), i + 1
    assert ours.flush() == theirs.flush()


@_SETTINGS
@given(data=st.binary(max_size=4000), sizes=st.lists(st.integers(1, 700), min_size=1,
                                                     max_size=5),
       max_length=st.sampled_from([0, 1, 3, 50, 1000]), wbits=st.sampled_from([15, -15, 31]))
def test_hypothesis_decompress_stream(backend: str, data: bytes, sizes: list[int],
                                      max_length: int, wbits: int) -> None:
    packed = zlib.compress(data * 3, 6, wbits) + b"++"
    assert wz.decompress(packed, wbits, backend=backend) == data * 3
    ours, theirs = wz.decompressobj(wbits, backend=backend), zlib.decompressobj(wbits)
    pos, i = 0, 0
    while pos < len(packed):
        chunk = packed[pos:pos + sizes[i % len(sizes)]]
        while True:  # the chunk, then whatever max_length left over
            assert outcome(lambda: ours.decompress(chunk, max_length)) == \
                outcome(lambda: theirs.decompress(chunk, max_length))
            assert (ours.eof, ours.unused_data, ours.unconsumed_tail) == \
                (theirs.eof, theirs.unused_data, theirs.unconsumed_tail)
            chunk = ours.unconsumed_tail
            if not chunk or ours.eof:
                break
        pos, i = pos + sizes[i % len(sizes)], i + 1
    assert ours.eof
    assert ours.flush() == theirs.flush()


# -- bad input: the host survives, the next call works ---------------------------------


def _bad_inputs() -> dict[str, bytes]:
    good = zlib.compress(CORPUS["text"][:20_000])
    flipped = bytearray(good)
    for i in range(40, len(flipped), 97):
        flipped[i] ^= 0x5A
    return {"garbage": b"this is not zlib data at all", "empty": b"",
            "header only": good[:2], "truncated": good[: len(good) // 2],
            "no checksum": good[:-4], "bad checksum": good[:-1] + bytes([good[-1] ^ 1]),
            "flipped bits": bytes(flipped), "bad block type": b"x\x9c" + b"\xff" * 10,
            "needs dictionary": b"x\xbb\x00\x00\x00\x01"}


def test_malformed_and_truncated_raise_error(backend: str) -> None:
    data = CORPUS["text"][:20_000]
    for name, bad in _bad_inputs().items():
        with pytest.raises(wz.error) as caught:
            wz.decompress(bad, backend=backend)
        with pytest.raises(zlib.error) as expected:
            zlib.decompress(bad)
        assert str(caught.value) == str(expected.value), name
        assert wz.decompress(zlib.compress(data), backend=backend) == data  # next call works
    good = zlib.compress(data)
    for cut in range(0, len(good), max(1, len(good) // 50)):
        assert outcome(lambda: wz.decompress(good[:cut], backend=backend)) == \
            outcome(lambda: zlib.decompress(good[:cut])), cut
        d, e = wz.decompressobj(backend=backend), zlib.decompressobj()
        assert outcome(lambda: d.decompress(good[:cut]) + d.flush()) == \
            outcome(lambda: e.decompress(good[:cut]) + e.flush()), cut


def test_bad_arguments_like_cpython(backend: str) -> None:
    ours = _Bound(wz, backend)
    cases: list[Callable[[Any], Any]] = [
        lambda m: m.compress(b"", 10), lambda m: m.compress(b"", 5, 99),
        lambda m: m.compress("text"), lambda m: m.compress(b"", 2**40),
        lambda m: m.compress(b"", 5.0), lambda m: m.decompress(b"x", 99),
        lambda m: m.decompress(b"x", 15, -1), lambda m: m.compressobj(99),
        lambda m: m.compressobj(5, 9), lambda m: m.compressobj(5, 8, 15, 10),
        lambda m: m.compressobj(strategy=99), lambda m: m.decompressobj(99),
        lambda m: m.decompressobj(zdict="s"), lambda m: m.compressobj(zdict="s"),
        lambda m: m.decompressobj().decompress(b"x", -1),
        lambda m: m.decompressobj().flush(0), lambda m: m.crc32("s"),
        lambda m: m.compressobj().flush(99),
    ]
    for i, case in enumerate(cases):
        assert outcome(lambda: case(ours)) == outcome(lambda: case(zlib)), i


class _Bound:
    """``sandboxlib.wrapped.zlib`` with ``backend=`` filled in for functions that take it."""

    def __init__(self, module: Any, backend: str) -> None:
        self._module, self._backend = module, backend

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._module, name)
        return lambda *a, **k: fn(*a, backend=self._backend, **k)


def _bomb() -> bytes:
    """Raw deflate that inflates to 1100 MiB of zeros: one full-flushed 1 MiB block,
    repeated (each starts afresh, so the repetition is a valid stream)."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(bytes(1 << 20)) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(bytes(1 << 20)) + co.flush(zlib.Z_FULL_FLUSH)
    assert co.compress(bytes(1 << 20)) + co.flush(zlib.Z_FULL_FLUSH) == block
    bomb = first + block * 1099 + co.flush()
    assert zlib.decompressobj(-15).decompress(bomb[:3 * len(block)]) == bytes(3 << 20)
    return bomb


BOMB = _bomb()


def test_bomb_is_stopped_by_the_default_guard(backend: str) -> None:
    assert len(BOMB) < (2 << 20)
    with pytest.raises(wz.error, match="max_output"):
        wz.decompress(BOMB, -15, backend=backend)
    assert wz.decompress(zlib.compress(b"fine"), backend=backend) == b"fine"


def test_guard_on_streaming_objects(backend: str) -> None:
    limit = 5 << 20
    d = wz.decompressobj(-15, max_output=limit, backend=backend)
    total = 0
    with pytest.raises(wz.error, match="max_output"):
        for chunk in _chunks(BOMB, 4096):
            total += len(d.decompress(chunk))
    assert total <= limit
    with pytest.raises(wz.error, match="cannot be used"):
        d.decompress(b"")  # broken: output was lost, never continue silently
    d = wz.decompressobj(-15, max_output=limit, backend=backend)
    assert len(d.decompress(BOMB[:50_000], 1 << 20)) == 1 << 20  # max_length still works
    with pytest.raises(wz.error, match="max_output"):
        d.flush()  # flush expands the unconsumed tail: guarded too
    exact = zlib.compress(bytes(1000))
    assert wz.decompress(exact, max_output=1000, backend=backend) == bytes(1000)
    with pytest.raises(wz.error, match="max_output"):
        wz.decompress(exact, max_output=999, backend=backend)
    assert wz.decompress(exact, max_output=None, backend=backend) == bytes(1000)


@pytest.mark.parametrize("isolated", ISOLATING)
def test_oversized_input_is_an_error(isolated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def close_this_threads_session() -> None:  # the next call opens one with the limit now
        kept = _core._sessions.cached(isolated)
        if kept is not None:
            kept.close()

    monkeypatch.setattr(_core, "MEMORY_LIMIT", 4 << 20)
    close_this_threads_session()
    big = random.Random(3).randbytes(8 << 20)
    with pytest.raises(wz.error, match="sandbox"):
        wz.compress(big, backend=isolated)
    with pytest.raises(wz.error, match="sandbox"):
        wz.compressobj(backend=isolated).compress(big)
    assert wz.compress(b"small", backend=isolated) == zlib.compress(b"small")
    monkeypatch.undo()
    close_this_threads_session()
    assert wz.decompress(wz.compress(big, 1, backend=isolated), backend=isolated) == big


def _corrupt_state(stream: _core.Stream) -> None:
    """Point the z_stream's internal state outside the sandbox's memory: the next
    inflate traps when it dereferences it."""
    setattr(stream.z, "state", 0xFFFFFF00)


@pytest.mark.parametrize("isolated", ISOLATING)
def test_trap_replaces_the_sandbox(isolated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    packed = zlib.compress(CORPUS["text"])
    d = wz.decompressobj(backend=isolated)
    d.decompress(packed[:100])
    assert d._stream is not None
    _corrupt_state(d._stream)
    with pytest.raises(wz.error, match="sandbox failed"):
        d.decompress(packed[100:])
    with pytest.raises(wz.error, match="cannot be used"):
        d.flush()
    assert wz.decompressobj(backend=isolated).decompress(packed) == CORPUS["text"]

    real_init = _core.Stream.inflate_init
    sessions: list[_core.Session] = []

    def trapping_init(self: _core.Stream, wbits: int) -> int:
        code = real_init(self, wbits)
        sessions.append(self.session)
        _corrupt_state(self)
        return code

    monkeypatch.setattr(_core.Stream, "inflate_init", trapping_init)
    with pytest.raises(wz.error, match="sandbox .* failed"):
        wz.decompress(packed, backend=isolated)
    monkeypatch.undo()
    assert sessions[0].closed and sessions[0].lib.poisoned is not None
    assert wz.decompress(packed, backend=isolated) == CORPUS["text"]  # a new sandbox


def test_lying_sandbox_is_caught(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox that reports more output than the room it had is not believed: its
    inflate returns with ``avail_out`` raised past what was given (what a compromised
    zlib can write into its own z_stream)."""
    seen: list[Any] = []
    proxy_type = type(_package.sandbox(backend))
    honest = proxy_type.inflate

    def lying_inflate(self: Any, strm: Any, flush: int) -> Any:
        seen.append(self)
        code = honest(self, strm, flush)
        strm.avail_out = 0xFFFFFFFF
        return code

    monkeypatch.setattr(proxy_type, "inflate", lying_inflate)
    stream = wz.decompressobj(backend=backend)  # a new sandbox: its first inflate is ours
    with pytest.raises(wz.error, match="outside"):
        stream.decompress(zlib.compress(b"data"))
    monkeypatch.undo()
    assert seen
    assert wz.decompress(zlib.compress(b"data"), backend=backend) == b"data"


def test_message_from_the_sandbox_is_verified(backend: str) -> None:
    d = wz.decompressobj(backend=backend)
    stream = d._stream
    assert stream is not None
    assert stream.message() is None  # NULL: CPython's wording is used instead
    garbage = stream.lib.alloc(8)
    garbage.write(b"\xff\x00bad\x00\x00\x00")
    setattr(stream.z, "msg", garbage)
    assert stream.message() == "(the sandbox's message did not verify)"
    garbage.write(b"x" * 7 + b"\x00")
    assert stream.message() == "xxxxxxx"
    if backend != "native":  # a wild pointer would be a real one there
        setattr(stream.z, "msg", 0xFFFFFF00)
        assert stream.message() == "(the sandbox's message did not verify)"
    garbage.free()


# -- backends and threads -----------------------------------------------------------------


def test_backend_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXLIB_BACKEND", "native")
    wz.compress(b"env")
    kept = _core._sessions.cached()
    assert kept is not None and kept.backend == "native"
    d = wz.decompressobj()
    assert d._stream is not None and d._stream.session.backend == "native"
    monkeypatch.setenv("SANDBOXLIB_BACKEND", "no-such-backend")
    with pytest.raises(ValueError, match="no-such-backend"):  # misuse: not a zlib.error
        wz.compress(b"x")
    assert wz.compress(b"x", backend="native") == zlib.compress(b"x")


def test_threads_share_nothing(backend: str) -> None:
    data = [CORPUS["text"][i * 1000:(i + 1) * 50_000] for i in range(4)]
    shared = wz.compressobj(backend=backend)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                assert wz.decompress(wz.compress(data[i], backend=backend),
                                     backend=backend) == data[i]
                shared.compress(data[i][:1000])  # serialized by the object's lock
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    shared.flush()


def test_an_inflater_inflates_stream_after_stream_as_decompressobj(backend: str) -> None:
    """``Inflater``: each stream as a fresh ``decompressobj()``'s ``decompress(data,
    max_length)`` gives it (whole, cut at ``max_length``, broken off, followed by
    other bytes, bad), all in one sandbox whose memory does not grow stream by
    stream (each ended before the next)."""
    inflater = wz.Inflater(backend)
    data = zlib.compress(random.Random(3).randbytes(3000) * 4)
    for stream, most in [(data, 1 << 20), (data, 100), (data[:-9], 1 << 20),
                         (data + b"after", 1 << 20)]:
        want = zlib.decompressobj()
        assert inflater.inflate(stream, most) == (want.decompress(stream, most),
                                                  bool(want.unconsumed_tail))
    with pytest.raises(zlib.error, match="incorrect header check"):
        inflater.inflate(b"not zlib", 100)
    sizes = []
    for count in range(1, 501):
        inflater.inflate(data, 100 if count % 2 else 1 << 20)
        if count in (20, 500):
            sizes.append(inflater.sandbox.memory.size)
    assert sizes[0] == sizes[1]
    inflater.close()
    assert inflater.closed
