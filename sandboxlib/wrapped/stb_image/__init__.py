"""Image decoding with stb_image, sandboxed: ``decode(data)`` to pixels and ``info(data)``
for the dimensions alone, of JPEG, PNG, BMP, GIF (first frame), PSD, TGA, PIC, PNM and
HDR files.

Built from stb_image 2.27 (Debian 12's libstb) fetched pinned from Debian's archive and
wrapped from its own header by ``sandboxlib wrap`` (``stb_image.toml``). Every call runs
in a fresh sandbox (not one kept per thread), so images from different sources never
share one; its memory limit bounds what a hostile image can make the decoder allocate
(a refused allocation is a failed decode, not a host out-of-memory). What comes back
is checked: the dimensions against ``max_pixels``, the channel count against what was
asked, the pixels' address and length against the sandbox's memory.
"""

from __future__ import annotations

from typing import NamedTuple

from sandboxlib import Limits, SandboxError

from . import _package

MAX_SIDE = 1 << 24  # STBI_MAX_DIMENSIONS: stb_image refuses larger sides
MAX_PIXELS = 1 << 26  # decode()'s default bound on width * height (64 Mpx)
LIMITS = Limits(memory_bytes=1 << 30)  # room for a 64 Mpx RGBA image and the decoder's own
__all__ = ["Image", "ImageError", "decode", "info"]


class ImageError(SandboxError):
    """Not an image stb_image decodes, or one past the caller's bounds."""


class Image(NamedTuple):
    width: int
    height: int
    channels: int  # 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
    pixels: bytes  # rows top to bottom, width * channels bytes each


def info(data: bytes, *, backend: str | None = None) -> tuple[int, int, int]:
    """(width, height, channels in the file) of the image ``data``, without decoding it."""
    with _package.sandbox(backend, limits=LIMITS) as lib:
        ok, x, y, comp = lib.helpers.stbi_info_from_memory(data)
        if not ok.verify_in({0, 1}):
            raise ImageError(f"not an image stb_image reads: {_reason(lib)}")
        return (x.verify_range(1, MAX_SIDE), y.verify_range(1, MAX_SIDE),
                comp.verify_range(1, 4))


def decode(data: bytes, channels: int = 0, *, max_pixels: int = MAX_PIXELS,
           backend: str | None = None, limits: Limits = LIMITS) -> Image:
    """The pixels of the image ``data``, with ``channels`` per pixel (0: as in the file),
    8 bits each. ``ImageError`` for a file stb_image cannot decode within ``limits``
    (the sandbox's), or of more than ``max_pixels`` pixels."""
    if channels not in range(5):
        raise ValueError(f"channels must be 0 (as in the file) to 4, got {channels}")
    with _package.sandbox(backend, limits=limits) as lib:
        pixels, x, y, comp = lib.helpers.stbi_load_from_memory(data, channels)
        if pixels.is_null():
            raise ImageError(f"cannot decode the image: {_reason(lib)}")
        width, height = x.verify_range(1, MAX_SIDE), y.verify_range(1, MAX_SIDE)
        if width * height > max_pixels:
            raise ImageError(f"{width}x{height} is more than max_pixels={max_pixels}")
        depth = channels or comp.verify_range(1, 4)
        size = width * height * depth
        raw = pixels.copy_and_verify(size, lambda b: len(b) == size, "the decoded pixels")
        return Image(width, height, depth, raw)


def _reason(lib: _package.StbImage) -> str:
    """stb_image's word for the last failure (a short text of its own; none for some
    refused allocations)."""
    got = lib.helpers.stbi_failure_reason()
    if got is None:
        return "no reason given (an allocation refused?)"
    reason: bytes = got.verify(lambda b: all(32 <= c < 127 for c in b))
    return reason.decode()
