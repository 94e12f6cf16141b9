"""The frames of an animated GIF or WebP as Pillow's plugin for the format gives them
(``n_frames``, ``is_animated``, ``seek``, ``tell``, each frame's mode, size, palette,
``info`` and pixels), every byte of the file decoded in sandboxes: what
``register()``'s images use once they leave their first frame. Each reader has the
same members: ``mode``, ``size``, ``palette`` and ``info`` of the current frame as
Pillow's plugin has them after ``seek``, its pixels from ``pixels()`` (an image of the
host's own), ``close()`` ending its sandboxes."""

from __future__ import annotations

from collections.abc import Callable

from PIL import GifImagePlugin

from ._gif_frames import GifFrames
from ._webp_frames import WebpFrames

Frames = GifFrames | WebpFrames
# what reads the frames of a file in each format that animates, on a backend
FRAMES: dict[str, Callable[[bytes, str | None, float | None], Frames]] = {"GIF": GifFrames,
                                                          "WEBP": WebpFrames}


def composed_first(fmt: str) -> bool:
    """Whether Pillow makes the first frame of a file in ``fmt`` as it makes the others
    (GIF under ``LOADING_STRATEGY`` RGB_ALWAYS: RGB or RGBA), so that it comes from the
    format's ``Frames`` too."""
    return fmt == "GIF" and (GifImagePlugin.LOADING_STRATEGY
                             == GifImagePlugin.LoadingStrategy.RGB_ALWAYS)
