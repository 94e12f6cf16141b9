"""Frames that Pillow's own plugin reads (Python: chunks or blocks, disposal, blending,
palettes) while its C decoding of each frame's pixels runs in the image's frame
sandbox: what GIF's and APNG's frames share."""

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
from ._time import TimeBudget

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


class FrameDecoder:
    """The frames of one image, each a file in ``fmt`` of its own, decoded one after
    another in one sandbox (one file's frames: one trust domain) on ``backend``, its
    memory bounded by the largest frame so far (a frame it has no room for gets a
    larger one instead), every decode a step of the image's ``budget``. Started at the
    first frame; ended by ``close()`` and after a failure (the next frame starts
    another)."""

    def __init__(self, fmt: str, backend: str | None, timeout: float | None,
                 budget: TimeBudget) -> None:
        self._format = FORMATS[fmt]
        self._backend, self._timeout, self.budget = backend, timeout, budget
        self._session: Session | None = None

    def decode(self, data: bytes, size: tuple[int, int]) -> Image.Image:
        """The one image of ``data``, a file holding a frame of ``size`` (a frame
        Pillow's rule refuses is refused first)."""
        pixels = size[0] * size[1]
        with self.budget.spending():
            session = self._session
            try:
                if session is not None and session.fits(len(data), pixels):
                    session.read(data, _frame_check, info=False)
                else:
                    self.close()
                    session = self._session = Session(
                        self._format, data, pixels, self._timeout, self._backend,
                        _frame_check, self.budget, info=False)
                if session.size != size:
                    raise ImageError(f"the {self._format.name} decoder's frame is "
                                     f"{session.size}, not {size}")
                return session.pixels()
            except BaseException:
                self.close()
                raise

    @property
    def started(self) -> bool:
        """Whether it holds a sandbox."""
        return self._session is not None

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()


def _frame_check(width: int, height: int) -> None:
    pillow_check(width, height, error_only=True)


class PillowFrames:
    """The frames ``reader()`` (its first current), a reader of Pillow's whose decoder
    runs in ``decoder``'s sandbox, gives of a file in ``fmt``; every read a step of
    the decoder's budget. The sandbox is ended when the frames end (a seek past the
    last) or fail, and by ``close()``."""

    def __init__(self, fmt: str, reader: Callable[[], Reader], decoder: FrameDecoder) -> None:
        self._format = fmt
        self.decoder = decoder
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
        self.decoder.close()
        self._file.close()

    def _sync(self) -> None:
        self.mode, self.size = self._file.mode, self._file.size
        self.info: Info = dict(self._file.info)
        self.palette: ImagePalette.ImagePalette | None = copy.copy(self._file.palette)

    def _read(self, step: Callable[[], T]) -> T:
        """``step()``, what Pillow raises on a broken file raised as ``ImageError``
        (``EOFError``, the end of the frames, as it is); after any failure the frames
        sandbox is ended."""
        try:
            with self.decoder.budget.spending():
                return step()
        except BaseException as error:  # (EOFError too: no frames left to decode)
            self.decoder.close()
            if isinstance(error, BROKEN) and not isinstance(error, SandboxError):
                raise ImageError(f"cannot read the {self._format}'s frames: {error}") \
                    from error
            raise
