"""sandboxlib.wrapped.image and the files it is given: a path or file object that
never ends, or whose ``read`` lies, is refused without reading it into the host's
memory without bound, a path to a FIFO refused without waiting on it; a file opened by
path is closed once its image is loaded (its bytes were all read at open), as Pillow
closes it; ``verify()`` decodes; on both isolating backends, through ``open()`` and
through ``PIL.Image.open`` after ``register()``."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import pytest
from conftest import ISOLATING_BACKENDS
from PIL import Image

import sandboxlib.wrapped.image as si
from sandboxlib.wrapped.image import _source

UNBOUNDED = 64 << 20  # more than a test's file may be read


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (7, 5), (9, 80, 200)).save(out, "PNG")
    return out.getvalue()


class Endless(io.RawIOBase):
    """A seekable file of ``head`` then zeros without end, that fails the test once
    more than ``UNBOUNDED`` bytes were read from it."""

    def __init__(self, head: bytes) -> None:
        self.head, self.at, self.given = head, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.at = offset + (self.at if whence == io.SEEK_CUR else 0)
        return self.at

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), 1 << 20)
        self.given += n
        if self.given > UNBOUNDED:
            raise AssertionError("read without bound")
        view[:n] = (self.head[self.at:] + bytes(n))[:n]
        self.at += n
        return n


class Lying(io.BytesIO):
    """A file whose ``read`` gives ``what(data)`` once its first 16 bytes are read."""

    def __init__(self, data: bytes, what: Callable[[bytes], object]) -> None:
        super().__init__(data)
        self.what = what

    def read(self, size: int | None = -1) -> Any:
        got = super().read(size)
        return got if self.tell() <= 16 else self.what(got)


@pytest.fixture(params=ISOLATING_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def registered(backend: str) -> Iterator[str]:
    Image.init()
    pillows = dict(Image.OPEN)
    si.register(backend=backend)
    yield backend
    Image.OPEN.update(pillows)


OPENERS: dict[str, Callable[[Any, str], Image.Image]] = {
    "open": lambda fp, backend: si.open(fp, backend=backend),
    "Image.open": lambda fp, backend: Image.open(fp).convert("RGB"),
}


@pytest.mark.parametrize("opener", sorted(OPENERS))
def test_a_file_that_never_ends_is_refused_at_the_bound(
        opener: str, registered: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_source, "MAX_FILE", 3 << 20)
    endless = Endless(png())
    with pytest.raises(si.ImageError, match="larger than a sandbox holds"):
        OPENERS[opener](io.BufferedReader(endless), registered)
    assert endless.given <= (3 << 20) + 2 * _source.CHUNK + io.DEFAULT_BUFFER_SIZE


def test_open_reads_no_more_of_what_is_no_image(backend: str) -> None:
    endless = Endless(b"")
    with pytest.raises(si.NotAnImageError):
        si.open(cast(IO[bytes], endless), backend=backend)
    assert endless.given <= 16
    with pytest.raises(si.NotAnImageError):
        si.open("/dev/zero", backend=backend)


def test_open_refuses_a_path_to_a_fifo_without_waiting(backend: str, tmp_path: Path) -> None:
    """A FIFO no one writes to (its open waits for a writer, its reads for data):
    refused at once, as a directory or a device is (before: open() waited forever)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    raised: list[BaseException] = []

    def opening() -> None:
        try:
            si.open(fifo, backend=backend)
        except BaseException as error:  # (what the test checks, in its thread)
            raised.append(error)
    thread = threading.Thread(target=opening, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():  # let it go: a writer comes and leaves
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join()
        pytest.fail("open() waited on a FIFO")
    assert len(raised) == 1 and isinstance(raised[0], si.NotAnImageError)
    for path in (tmp_path, "/dev/null"):
        with pytest.raises(si.NotAnImageError, match="not a regular file"):
            si.open(path, backend=backend)


@pytest.mark.parametrize("opener", sorted(OPENERS))
@pytest.mark.parametrize("what", [lambda got: got.decode("latin-1"), lambda got: None])
def test_a_read_that_gives_no_bytes_is_refused(opener: str, what: Callable[[bytes], object],
                                               registered: str) -> None:
    with pytest.raises(si.ImageError, match="not bytes"):
        OPENERS[opener](Lying(png(), what), registered)


def test_a_file_opened_by_path_is_closed_once_loaded(registered: str,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(png())
    Image.open(path).load()  # (the backend's first sandbox may open files of its own)
    before = len(os.listdir("/proc/self/fd"))
    images = [Image.open(path) for _ in range(20)]
    for image in images:
        image.load()
        assert image.fp is None
    assert len(os.listdir("/proc/self/fd")) == before
    assert images[0].tobytes() == Image.new("RGB", (7, 5), (9, 80, 200)).tobytes()


# (a GIF broken off in a later frame passes, as it passes Pillow's verify(), which
# reads nothing of a GIF)
@pytest.mark.parametrize("fmt, frames", [("PNG", 1), ("JPEG", 1), ("GIF", 1), ("WEBP", 1),
                                         ("PNG", 2), ("WEBP", 2)])
def test_verify_refuses_a_file_broken_off(fmt: str, frames: int, registered: str) -> None:
    """``verify()``, the check Pillow's users make before they load, decodes the image
    in a sandbox and walks a PNG's chunks as Pillow does: a file broken off fails it
    (before: it passed, ImageFile's verify() checking nothing)."""
    images = [Image.merge("RGB", [Image.effect_noise((40, 30), 40 + 9 * i)] * 3)
              for i in range(frames)]  # (noise: the pixels, not the header, most of it)
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=frames > 1, append_images=images[1:])
    data = out.getvalue()
    Image.open(io.BytesIO(data)).verify()
    image = Image.open(io.BytesIO(data[:len(data) * 7 // 8]))
    with pytest.raises(si.ImageError):
        image.verify()
