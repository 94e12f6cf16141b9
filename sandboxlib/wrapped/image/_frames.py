"""The frames of an animated GIF, WebP or PNG (APNG) as Pillow's plugin for the format
gives them (``n_frames``, ``is_animated``, ``seek``, ``tell``, each frame's mode, size,
palette, ``info`` and pixels), every frame's pixels decoded in the image's sandbox: what
``register()``'s images use once they leave their first frame. Each reader has the
same members: ``mode``, ``size``, ``palette`` and ``info`` of the current frame as
Pillow's plugin has them after ``seek``, its pixels from ``pixels()`` (an image of the
host's own), ``close()`` ending its sandboxes."""

from __future__ import annotations

from collections.abc import Callable

from PIL import GifImagePlugin

from ._gif_frames import GifFrames
from ._pillow_frames import PillowFrames
from ._png_frames import PngFrames, header
from ._time import TimeBudget
from ._webp_frames import WebpFrames

Frames = PillowFrames | WebpFrames
# what reads the frames of a file in each format that animates, given its bytes, the
# size its header gave (a GIF's screen may grow; an APNG's frames are each sized
# alone), the backend, the time limit of a call and the image's time budget
FRAMES: dict[str, Callable[[bytes, tuple[int, int], str | None, float | None, TimeBudget],
                           Frames]] = {
    "GIF": lambda data, size, backend, timeout, budget: GifFrames(data, backend, timeout,
                                                                  budget),
    "WEBP": WebpFrames,
    "PNG": lambda data, size, backend, timeout, budget: PngFrames(data, backend, timeout,
                                                                  budget)}


def composed_first(fmt: str, data: bytes) -> bool:
    """Whether Pillow makes the first frame of ``data``, a file in ``fmt``, as it makes
    the others, so that it comes from the format's ``Frames`` too: a GIF under
    ``LOADING_STRATEGY`` RGB_ALWAYS (RGB or RGBA), an APNG (its info has the frame's
    keys; its first frame's control may make it smaller than the image)."""
    if fmt == "PNG":
        return header(data).animated
    return fmt == "GIF" and (GifImagePlugin.LOADING_STRATEGY
                             == GifImagePlugin.LoadingStrategy.RGB_ALWAYS)
