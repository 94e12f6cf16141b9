"""sandboxlib.wrapped.image after ``register()``: an animation's frames cost a sandbox
per image, not per frame or compressed chunk, and ``timeout`` bounds the image's
decoding as a whole, on both isolating backends. The frames of one open GIF or APNG
decode in one sandbox, whose memory does not grow frame by frame and which the end of
the frames, a failure and ``close()`` end; an APNG's compressed chunks are inflated in
one zlib sandbox per read; a file of many frames that together take longer than the
budget ends in ``ResourceError``, a call running then stopped."""

from __future__ import annotations

import gc
import io
import os
import random
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import GifImagePlugin, Image, ImageSequence, PngImagePlugin

import sandboxlib.wrapped.image as si
from sandboxlib import Interrupted, Limits, ResourceError, SandboxError
from sandboxlib._slab import stats
from sandboxlib.wrapped.image import _session
from sandboxlib.wrapped.image._formats import FORMATS
from sandboxlib.wrapped.image._session import Session, limits
from sandboxlib.wrapped.image._time import TimeBudget
from sandboxlib.wrapped.zlib import _core
from test_wrapped_image_lifetimes import registered as backend  # noqa: F401


Image.init()
PILLOWS = dict(Image.OPEN)  # Pillow's own plugins (at collection: none registered yet)


@pytest.fixture(autouse=True)
def no_garbage() -> Iterator[None]:
    """A test's images and sessions kept by its exceptions' tracebacks collected after
    it, so that their sandboxes are not collected during another's count of them."""
    yield
    gc.collect()


def lzw(image: Image.Image) -> bytes:
    """The LZW code size and data sub-blocks Pillow writes for the P ``image``."""
    out = io.BytesIO()
    image.save(out, "GIF", optimize=False)
    data = out.getvalue()
    start = GifImagePlugin.GifImageFile(io.BytesIO(data)).tile[0].offset - 1
    end = start + 1
    while data[end]:
        end += data[end] + 1
    return data[start:end + 1]


def gif(sizes: list[tuple[int, int]], seed: int = 0, broken: int | None = None) -> bytes:
    """A GIF of frames of ``sizes`` (the screen the first's), each of random pixels
    (zeros above 4,096) on one global palette, 100 ms each; frame ``broken`` with an
    LZW code size giflib refuses."""
    rng = random.Random(seed)
    out = b"GIF89a" + struct.pack("<HHBBB", *sizes[0], 0xF7, 0, 0) + bytes(range(256)) * 3
    for index, size in enumerate(sizes):
        pixels = size[0] * size[1]
        code = lzw(Image.frombytes("P", size, rng.randbytes(pixels) if pixels <= 4096
                                   else bytes(pixels)))
        if index == broken:
            code = b"\x0c" + code[1:]
        out += (b"!\xf9\x04\x04\x0a\x00\x00\x00,"
                + struct.pack("<HHHHB", 0, 0, *size, 0) + code)
    return out + b";"


def apng(texts: int, frames: int = 2) -> bytes:
    """An APNG of ``frames`` frames after ``texts`` zTXt chunks."""
    info = PngImagePlugin.PngInfo()
    for k in range(texts):
        info.add_text(f"key{k}", f"a text {k} " * 20, zip=True)
    images = [Image.new("RGB", (6, 5), (40 * k % 256, 90, 200)) for k in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "PNG", save_all=True, append_images=images[1:], pnginfo=info)
    return out.getvalue()


def frames_of(data: bytes) -> list[Any]:
    with Image.open(io.BytesIO(data)) as image:
        return [(frame.mode, frame.size, frame.tobytes(), frame.info.get("duration"))
                for frame in ImageSequence.Iterator(image)]


def pillows(data: bytes) -> list[Any]:
    """``frames_of(data)`` by Pillow's own plugins."""
    registered = dict(Image.OPEN)
    Image.OPEN.update(PILLOWS)
    try:
        return frames_of(data)
    finally:
        Image.OPEN.update(registered)


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The memory limit of every decoder sandbox started from now on."""
    started: list[int] = []

    def recorded(memory: int, timeout: float | None) -> Limits:
        started.append(memory)
        return limits(memory, timeout)
    monkeypatch.setattr(_session, "limits", recorded)
    return started


@pytest.mark.parametrize("data", [gif([(1, 1)] * 300), gif([(17, 9)] * 40),
                                  apng(0, frames=40)],
                         ids=["gif-1x1", "gif-17x9", "apng"])
def test_an_animations_frames_share_one_sandbox(data: bytes, backend: str,
                                                sandboxes: list[int]) -> None:
    """Every frame is Pillow's; the image's header, its first frame and all its later
    frames take three sandboxes (before: one per frame, 300 for the 1x1 GIF)."""
    got = frames_of(data)
    assert len(sandboxes) <= 3
    assert got == pillows(data)


def test_the_frames_sandbox_holds_what_the_largest_frame_needs(backend: str,
                                                               sandboxes: list[int]) -> None:
    """A frame larger than the frames' sandbox has room for gets a larger sandbox,
    bounded by its size (a GIF's screen grows with it), not by Pillow's pixel limit."""
    data = gif([(8, 8)] * 3 + [(5000, 5000)] * 2)
    with Image.open(io.BytesIO(data)) as image:
        for frame in ImageSequence.Iterator(image):
            frame.load()
        assert image.size == (5000, 5000)
    assert len(sandboxes) == 4  # the header's, the first frame's, the frames' two
    assert sandboxes[-1] > sandboxes[-2]
    assert max(sandboxes[1:]) < (64 << 20) + 25_000_000 + (16 << 20)


def test_the_frames_sandbox_does_not_grow_frame_by_frame(backend: str) -> None:
    """Each frame's file is freed before the next is copied in: after 30 frames of
    random pixels (their compressed data as large as the pixels) the sandbox's memory
    is what it is after 300."""
    data = gif([(64, 64)] * 300)
    with Image.open(io.BytesIO(data)) as image:
        sizes = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            frame.load()
            if index in (30, 299):
                decoder = image._frames.decoder  # type: ignore[attr-defined]
                sizes.append(decoder._session._lib.sandbox.memory.size)
    assert sizes[0] == sizes[1]


def test_the_frames_sandbox_ends_with_the_frames(backend: str) -> None:
    """The frames' sandbox lives while they are read: the end of the frames (what
    ends ``ImageSequence``) ends it, as ``close()`` does (a ``with`` block's end closes
    only the file, as Pillow has it)."""
    data = gif([(1, 1)] * 5)
    frames_of(data)  # (the package loaded, its caches warm)
    live = stats()["live"]
    with Image.open(io.BytesIO(data)) as image:
        image.seek(3)
        image.load()
        assert stats()["live"] == live + 1
        with pytest.raises(EOFError):
            image.seek(5)
        assert stats()["live"] == live
        image.seek(1)
        image.load()
        assert stats()["live"] == live + 1
        image.close()
        assert stats()["live"] == live


def test_a_broken_frame_fails_its_image_alone(backend: str) -> None:
    """A frame that fails ends the sandbox of its image's frames, and no other image's
    (read frame by frame beside it)."""
    data, broken = gif([(20, 20)] * 6), gif([(20, 20)] * 6, broken=3)
    want = pillows(data)
    with Image.open(io.BytesIO(broken)) as hostile, Image.open(io.BytesIO(data)) as other:
        got = []
        for index in range(6):
            other.seek(index)
            got.append(other.tobytes())
            if index < 3:
                hostile.seek(index)
                hostile.load()
            elif index == 3:
                hostile.seek(index)
                with pytest.raises(SandboxError, match="cannot identify the GIF"):
                    hostile.load()
                assert hostile._frames.decoder._session is None  # type: ignore[attr-defined]
    assert got == [frame[2] for frame in want]


@pytest.fixture
def zlib_sandboxes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every zlib sandbox started from now on."""
    started: list[object] = []

    class Counted(_core.Session):
        def __init__(self, *args: Any) -> None:
            started.append(args)
            super().__init__(*args)
    monkeypatch.setattr(_core, "Session", Counted)
    return started


def test_an_apngs_compressed_chunks_share_one_sandbox(backend: str,
                                                      zlib_sandboxes: list[object]) -> None:
    """Pillow's reader inflates the 300 zTXt chunks of an APNG at open: in one zlib
    sandbox (before: one each), to Pillow's texts; the sandbox ends with the read."""
    data = apng(300)
    live = stats()["live"]
    with Image.open(io.BytesIO(data)) as image:
        texts = {key: value for key, value in image.info.items()
                 if isinstance(key, str) and key.startswith("key")}
        assert stats()["live"] == live
    assert len(zlib_sandboxes) == 1
    assert texts == {f"key{k}": f"a text {k} " * 20 for k in range(300)}


def texts_between_frames(data: bytes) -> bytes:
    """The APNG ``data`` with a zTXt chunk before each frame control but the first."""
    out, at, frames = data[:8], 8, 0
    while at < len(data):
        end = at + 12 + int.from_bytes(data[at:at + 4], "big")
        if data[at + 4:at + 8] == b"fcTL":
            if frames:
                out += chunk(b"zTXt", b"frame%d\0\0" % frames
                             + zlib.compress(b"before frame %d" % frames))
            frames += 1
        out, at = out + data[at:end], end
    return out


def test_compressed_chunks_between_frames_share_one_sandbox(
        backend: str, zlib_sandboxes: list[object]) -> None:
    """The zTXt chunks Pillow's reader inflates as it seeks from frame to frame go to
    one zlib sandbox, which lives as long as the frames sandbox (before: one each)."""
    data = texts_between_frames(apng(0, frames=30))
    assert frames_of(data) == pillows(data)
    assert len(zlib_sandboxes) == 1
    with Image.open(io.BytesIO(data)) as image:
        image.seek(29)
        assert image.info["frame29"] == "before frame 29"


@pytest.mark.parametrize("data", [gif([(1, 1)] * 4000), apng(10_000)],
                         ids=["gif", "apng-texts"])
def test_a_file_of_many_items_ends_at_the_images_time_limit(data: bytes,
                                                            backend: str) -> None:
    """4,000 frames (or 10,000 zTXt chunks), each far within a limit of 20 ms, together
    over it: ``ResourceError`` (before: each call had 20 ms, the file took seconds)."""
    si.register(backend=backend, timeout=0.02)
    with pytest.raises(ResourceError, match="time limit"):
        frames_of(data)


def test_a_running_call_stops_when_the_image_runs_out_of_time(backend: str) -> None:
    """A decode running when the image's budget runs out is stopped then (the
    watchdog's ``interrupt()``), not at the end of its call's own limit."""
    assert stopped_by_the_budget(backend)


def stopped_by_the_budget(backend: str) -> bool:
    """Whether a 48 Mpx PNG decode with 50 ms of its image's budget left is stopped by
    the watchdog's ``interrupt()`` (its call's own limit: 60 s)."""
    head = struct.pack(">IIBBBBB", 8000, 6000, 8, 0, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head)
            + chunk(b"IDAT", zlib.compress(bytes(8001 * 6000), 9)) + chunk(b"IEND", b""))
    budget = TimeBudget(60)
    budget.left = 0.05
    try:
        with budget.spending():
            session = Session(FORMATS["PNG"], data, 48_000_000, 60, backend,
                              lambda w, h: None, budget)
            try:
                session.pixels()
            finally:
                session.close()
    except ResourceError as error:
        return "time limit" in str(error) and isinstance(error.__cause__, Interrupted)
    return False


def test_a_forked_child_has_a_watchdog_of_its_own(backend: str) -> None:
    """A child forked after the watchdog started starts its own (its parent's thread
    is not in it)."""
    assert stopped_by_the_budget(backend)
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its answer as one byte, then out without pytest's exit
        os.write(writing, b"1" if stopped_by_the_budget(backend) else b"0")
        os._exit(0)
    os.close(writing)
    answer = os.read(reading, 1)
    os.close(reading)
    os.waitpid(pid, 0)
    assert answer == b"1"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
