"""Image decoding for Pillow users, sandboxed: ``open(fp)`` returns a ``PIL.Image.Image``
decoded by the C library Pillow uses (PNG: libpng with zlib, where Pillow decodes in
Python and zlib; GIF: giflib, where Pillow has its own decoder; JPEG: libjpeg-turbo;
WebP: libwebp), in a fresh sandbox per image; ``register()`` makes ``PIL.Image.open``
itself decode those formats so, an animated GIF's, WebP's or PNG's (APNG) every frame
too (Pillow's ``n_frames``, ``seek``, ``tell``; ``_frames.py``), in one sandbox for
the image's frames.

Each decode reads the header first (its values tainted, checked), applies the pixel
bound (Pillow's ``MAX_IMAGE_PIXELS`` rule unless ``max_pixels`` is given) before any
pixel buffer exists, and gives the sandbox a memory limit derived from that bound and
the image a time limit (all its sandboxes' calls together: ``_time.py``). The pixels
are copied once, from the sandbox's memory (address and length checked) into the
image, unpacked by Pillow's own raw modes, so modes, palettes and transparency are
Pillow's. A file in none of the formats, or whose header is
broken, raises ``NotAnImageError`` (a ``PIL.UnidentifiedImageError``); one that fails
to decode ``ImageError`` (an ``OSError``); both are ``SandboxError``s, as is a
decoder trapping or exceeding its limits.
"""

from __future__ import annotations

import contextlib
import os
from typing import IO

from PIL import Image

from sandboxlib.wrapped._skeleton import resolve_backend

from ._budget import budget, checker
from ._errors import ImageError, NotAnImageError
from ._formats import FORMATS, Format, chosen
from ._plugin import register
from ._session import TIMEOUT, Session
from ._source import open_regular, read, read_whole
from ._time import TimeBudget

__all__ = ["FORMATS", "ImageError", "NotAnImageError", "open", "register"]


def open(fp: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes], *,
         backend: str | None = None, max_pixels: int | None = None,
         formats: list[str] | tuple[str, ...] | None = None,
         timeout: float | None = TIMEOUT) -> Image.Image:
    """The image in ``fp`` (its bytes, a path or a binary file; an animation's first
    frame: ``register()`` gives the others), decoded (not lazily, unlike
    ``PIL.Image.open``) in a sandbox on ``backend``, as one of ``formats``
    (Pillow's names: "PNG", "GIF", "JPEG", "WEBP"; default all). ``max_pixels`` None:
    Pillow's rule (``DecompressionBombWarning`` above ``Image.MAX_IMAGE_PIXELS``,
    ``DecompressionBombError`` above twice it); else ``DecompressionBombError`` above
    it. ``timeout``: seconds of decoding in all (None: no bound)."""
    backend = resolve_backend(backend)  # misuse is refused before anything is read
    wanted = chosen(formats)
    fmt, data = _read(fp, wanted)
    time = TimeBudget(timeout)
    with time.spending():
        session = Session(fmt, data, budget(max_pixels), timeout, backend, checker(max_pixels),
                          time)
        try:
            image = session.pixels()
        finally:
            session.close()
    image.format = fmt.name
    return image


def _read(fp: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes],
          wanted: list[Format]) -> tuple[Format, bytes]:
    """The format of ``fp`` and its bytes, read past its first 16 only if they are the
    start of one of the ``wanted`` formats."""
    if isinstance(fp, (bytes, bytearray, memoryview)):
        data = bytes(fp)
        return _format(data[:16], wanted), data
    with (open_regular(fp) if isinstance(fp, (str, os.PathLike))
          else contextlib.nullcontext(fp)) as file:
        head = read(file, 16)
        fmt = _format(head, wanted)
        return fmt, read_whole(file, head)


def _format(head: bytes, wanted: list[Format]) -> Format:
    fmt = next((f for f in wanted if f.accept(head)), None)
    if fmt is None:
        names = " or ".join(f.name for f in wanted)
        raise NotAnImageError(f"cannot identify image file (not {names})")
    return fmt
