"""sandboxlib.wrapped.image after ``register()``: what an image ``Image.open`` opened
holds while it lives, on both isolating backends. An image opened holds no sandbox
(however many are open, none reserves a sandbox's memory); ``load()`` decodes in one it
ends; a load that failed fails again, as Pillow's does; every sandbox that decodes
has a memory limit for the size the header gave, not for Pillow's pixel limit; a
closed animation starts no sandbox."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from conftest import ISOLATING_BACKENDS
from PIL import Image

import sandboxlib.wrapped.image as si
from sandboxlib import Limits
from sandboxlib._slab import stats
from sandboxlib.wrapped.image import _session
from sandboxlib.wrapped.image._session import HEADROOM, limits

RED = (200, 9, 30)


def saved(fmt: str, frames: int = 1) -> bytes:
    images = [Image.new("RGB", (9, 7), (RED[0] - 60 * i, *RED[1:])) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=frames > 1, append_images=images[1:])
    return out.getvalue()


@pytest.fixture(params=ISOLATING_BACKENDS)
def registered(request: pytest.FixtureRequest) -> Iterator[str]:
    Image.init()
    pillows = dict(Image.OPEN)
    si.register(backend=request.param)
    yield str(request.param)
    Image.OPEN.update(pillows)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_an_open_image_holds_no_sandbox(fmt: str, registered: str) -> None:
    data = saved(fmt)
    Image.open(io.BytesIO(data)).load()  # (the format's package loaded, its caches warm)
    live = stats()["live"]
    images = [Image.open(io.BytesIO(data)) for _ in range(40)]
    assert stats()["live"] == live
    for image in images:
        assert image.convert("RGB").getpixel((4, 3)) == pytest.approx(RED, abs=4)
    assert stats()["live"] == live


def test_a_failed_load_fails_again(registered: str) -> None:
    data = saved("PNG")
    image = Image.open(io.BytesIO(data[:-20]))  # its image data broken off
    for _ in range(2):
        with pytest.raises(si.ImageError, match="truncated"):
            image.load()


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
@pytest.mark.parametrize("frames_made", [False, True])
def test_a_closed_animation_starts_no_sandbox(fmt: str, frames_made: bool,
                                              registered: str) -> None:
    image = Image.open(io.BytesIO(saved(fmt, frames=3)))
    if frames_made:
        image.seek(1)
    image.close()
    live = stats()["live"]
    for use in (lambda: image.seek(2), lambda: getattr(image, "n_frames"),
                lambda: getattr(image, "is_animated")):
        with pytest.raises(ValueError, match="closed image"):
            use()
    assert stats()["live"] == live


@pytest.mark.parametrize("fmt, frames", [("PNG", 1), ("JPEG", 1), ("PNG", 3), ("GIF", 3),
                                         ("WEBP", 3)])
def test_decoding_sandboxes_reserve_what_the_size_needs(
        fmt: str, frames: int, registered: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the header gave the size, every sandbox that decodes (the image's, each
    frame's, an animated WebP's, which lives as long as the image) has a memory limit
    for that size, not for Pillow's pixel limit (a PNG's: 1.4 GiB, a WebP's 2.6 GiB)."""
    image = Image.open(io.BytesIO(saved(fmt, frames)))
    asked: list[int] = []

    def recorded(memory: int, timeout: float | None) -> Limits:
        asked.append(memory)
        return limits(memory, timeout)
    monkeypatch.setattr(_session, "limits", recorded)
    for frame in range(frames):
        image.seek(frame)
        image.load()
    assert asked and max(asked) < HEADROOM + (1 << 20)
