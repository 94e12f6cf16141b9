"""sandboxlib.wrapped.image after ``register()``: what an image ``Image.open`` opened
holds while it lives, on both isolating backends. An image opened holds no sandbox
(however many are open, none reserves a sandbox's memory); ``load()`` decodes in one it
ends; a load that failed fails again, as Pillow's does."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from conftest import ISOLATING_BACKENDS
from PIL import Image

import sandboxlib.wrapped.image as si
from sandboxlib._slab import stats

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
