"""The drop-ins' objects can be stopped from another thread (``interrupt()``), as an
asyncio server enforcing its own deadline does: the running call raises, that object
is unusable, the next object works."""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Callable

import pytest

import sandboxlib.wrapped.zlib as wz
from sandboxlib import Interrupted, SandboxError
from sandboxlib.wrapped import expat

ISOLATING = ["wasmtime", "wasm2c"]


def stop_while_running(interrupt: Callable[[], bool], work: Callable[[], object]) -> None:
    """Run ``work`` over and over until another thread's ``interrupt()`` stops a call
    that was running (it returns True only then); the exception propagates."""
    done = threading.Event()

    def cancel() -> None:
        while not done.is_set() and not interrupt():
            done.wait(0.005)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    try:
        while True:
            work()
    finally:
        done.set()
        canceller.join()


@pytest.mark.parametrize("backend", ISOLATING)
def test_a_zlib_stream_is_stopped_from_another_thread(backend: str) -> None:
    rng = random.Random(2)
    data = bytes(rng.choices(b"abcdefgh ", k=2 << 20))
    c = wz.compressobj(9, backend=backend)
    assert c.interrupt() is False  # no call runs
    with pytest.raises(wz.error, match="interrupted") as caught:
        stop_while_running(c.interrupt, lambda: c.compress(data))
    assert isinstance(caught.value.__cause__, Interrupted)
    with pytest.raises(wz.error, match="cannot be used"):
        c.compress(b"more")
    assert c.interrupt() is False
    d = wz.decompressobj(backend=backend)
    assert d.decompress(zlib.compress(data[:1000])) == data[:1000]


def test_a_native_zlib_stream_cannot_be_stopped() -> None:
    c = wz.compressobj(backend="native")
    with pytest.raises(SandboxError, match="native backend cannot interrupt"):
        c.interrupt()
    assert zlib.decompress(c.compress(b"still fine") + c.flush()) == b"still fine"


@pytest.mark.parametrize("backend", ISOLATING)
def test_an_expat_parser_is_stopped_from_another_thread(backend: str) -> None:
    p = expat.ParserCreate(backend=backend)
    p.Parse(b"<root>", False)
    chunk = b"<item a='1'>text &amp; more</item>" * 100_000
    with pytest.raises(Interrupted, match="interrupt"):
        stop_while_running(p.interrupt, lambda: p.Parse(chunk, False))
    with pytest.raises(SandboxError):
        p.Parse(b"</root>", True)
    fresh = expat.ParserCreate(backend=backend)
    seen: list[str] = []
    fresh.StartElementHandler = lambda name, attrs: seen.append(name)
    fresh.Parse(b"<a><b/></a>", True)
    assert seen == ["a", "b"]
