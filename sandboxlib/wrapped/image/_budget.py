"""How many pixels an image may have: Pillow's ``MAX_IMAGE_PIXELS`` rule, or the
caller's bound."""

from __future__ import annotations

import warnings
from collections.abc import Callable

from PIL import Image

from ._errors import ImageError

MAX_WASM_PIXELS = 1 << 31  # what no 32-bit sandbox could hold


def pillow_check(width: int, height: int, *, error_only: bool = False) -> None:
    """Pillow's rule, with its ``MAX_IMAGE_PIXELS`` now: ``DecompressionBombWarning``
    above it, ``DecompressionBombError`` above twice it (None: no bound)."""
    limit = Image.MAX_IMAGE_PIXELS
    pixels = width * height
    if limit is None:
        return
    if pixels > 2 * limit:
        raise Image.DecompressionBombError(
            f"Image size ({pixels} pixels) exceeds limit of {2 * limit} pixels, "
            "could be decompression bomb DOS attack.")
    if not error_only and pixels > limit:
        warnings.warn(f"Image size ({pixels} pixels) exceeds limit of {limit} pixels, "
                      "could be decompression bomb DOS attack.",
                      Image.DecompressionBombWarning, stacklevel=4)


def checker(max_pixels: int | None) -> Callable[[int, int], None]:
    """The check of a header's dimensions: Pillow's rule (``max_pixels`` None), else
    ``DecompressionBombError`` above ``max_pixels``."""
    if max_pixels is None:
        return pillow_check

    def check(width: int, height: int) -> None:
        if width * height > max_pixels:
            raise Image.DecompressionBombError(
                f"Image size ({width * height} pixels) exceeds max_pixels={max_pixels}")
    return check


def budget(max_pixels: int | None) -> int:
    """The most pixels a sandbox needs room for under ``checker(max_pixels)``."""
    if max_pixels is not None:
        return max_pixels
    limit = Image.MAX_IMAGE_PIXELS
    return MAX_WASM_PIXELS if limit is None else min(2 * limit, MAX_WASM_PIXELS)


def exactly(size: tuple[int, int]) -> Callable[[int, int], None]:
    """The check of a header read again, in a sandbox bounded by ``size`` (what the
    first read gave): ``ImageError`` for any other size."""
    def check(width: int, height: int) -> None:
        if (width, height) != size:
            raise ImageError(f"the header's size changed from {size} to {(width, height)}")
    return check
