"""Frames that Pillow's own plugin reads (Python: chunks or blocks, disposal, blending,
palettes) while its C decoding of each frame's pixels runs in a fresh sandbox per
frame: what GIF's and APNG's frames share."""

from __future__ import annotations

import copy
import struct
from collections.abc import Callable
from typing import Any, TypeVar

from PIL import GifImagePlugin, Image, ImageFile, ImagePalette, PngImagePlugin

from sandboxlib import SandboxError

from ._budget import pillow_check
from ._errors import ImageError
from ._formats import FORMATS
from ._session import Session

T = TypeVar("T")
Info = dict[str | tuple[int, int], Any]  # an image's info, as Pillow types it
Reader = GifImagePlugin.GifImageFile | PngImagePlugin.PngImageFile
# what Pillow's readers raise on a file broken off or garbled
BROKEN = (struct.error, IndexError, ValueError, SyntaxError, OSError)


def sandboxed_tiles(tiles: list[ImageFile._Tile], decoder: str,
                    *args: Any) -> list[ImageFile._Tile]:
    """``tiles`` decoded by ``decoder``, ``args`` after each tile's own."""
    return [tile._replace(codec_name=decoder, args=(*tile.args, *args)
                          if isinstance(tile.args, tuple) else (tile.args, *args))
            for tile in tiles]


def decode_frame(fmt: str, data: bytes, size: tuple[int, int], backend: str | None,
                 timeout: float | None) -> Image.Image:
    """The one image of ``data``, a file in ``fmt`` holding a frame of ``size``,
    decoded in a fresh sandbox whose memory is bounded by that size (a frame Pillow's
    rule refuses is refused first)."""
    session = Session(FORMATS[fmt], data, size[0] * size[1], timeout, backend,
                      lambda w, h: pillow_check(w, h, error_only=True))
    try:
        if session.size != size:
            raise ImageError(f"the {fmt} decoder's frame is {session.size}, not {size}")
        return session.pixels()
    finally:
        session.close()


class PillowFrames:
    """The frames ``reader()`` (its first current), a reader of Pillow's whose decoder
    runs in sandboxes, gives of a file in ``fmt``."""

    def __init__(self, fmt: str, reader: Callable[[], Reader]) -> None:
        self._format = fmt
        self._file = self._read(reader)
        self._sync()

    @property
    def n_frames(self) -> int:
        return self._read(lambda: self._file.n_frames)

    @property
    def is_animated(self) -> bool:
        return self._read(lambda: self._file.is_animated)

    def seek(self, frame: int) -> None:
        self._read(lambda: self._file.seek(frame))
        self._sync()

    def tell(self) -> int:
        return self._file.tell()

    def pixels(self) -> Image.Image:
        self._read(self._file.load)
        self._sync()
        return self._file.copy()  # Pillow composes the next frame on its own

    def close(self) -> None:
        self._file.close()

    def _sync(self) -> None:
        self.mode, self.size = self._file.mode, self._file.size
        self.info: Info = dict(self._file.info)
        self.palette: ImagePalette.ImagePalette | None = copy.copy(self._file.palette)

    def _read(self, step: Callable[[], T]) -> T:
        """``step()``, what Pillow raises on a broken file raised as ``ImageError``
        (``EOFError``, the end of the frames, as it is)."""
        try:
            return step()
        except SandboxError:
            raise
        except BROKEN as error:
            raise ImageError(f"cannot read the {self._format}'s frames: {error}") from error
