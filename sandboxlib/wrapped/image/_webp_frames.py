"""A WebP's frames as Pillow's plugin gives them: libwebp's animation decoder composes
them on the canvas in the image's sandbox (as Pillow's plugin has it do in the host),
driven as that plugin drives it: forwards frame by frame, from the start again to go
back; each frame's ``timestamp`` (its start) and ``duration`` from the decoder's end
times, checked to grow."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PIL import Image, ImagePalette

from sandboxlib import TaintedPtr

from ._budget import exactly
from ._errors import ImageError
from ._formats import FORMATS
from ._pillow_frames import Info
from ._session import MAX_SIDE, Session
from ._time import TimeBudget

if TYPE_CHECKING:
    from . import _webp


class Animation(Session):
    """A WebP in a sandbox of its own, read by the animation decoder."""

    def count(self, most: int) -> int:
        """How many frames the animation has (a still image: 1), at most ``most``."""
        return self._webp.image_frames().verify_range(1, most)

    def next_frame(self, after: int) -> tuple[TaintedPtr, int]:
        """Where the next frame's pixels are and the time its display ends, no earlier
        than ``after``."""
        pointer, end = self._webp.helpers.image_next_frame()
        if pointer.is_null():
            raise ImageError(f"cannot decode the WEBP frame: {self._message()}")
        return pointer, end.verify_range(after, MAX_SIDE)

    def frame(self, pointer: TaintedPtr) -> Image.Image:
        """The frame ``next_frame`` gave, copied out."""
        return self._image(pointer, "frame")

    def rewind(self) -> None:
        if not self._webp.image_rewind().verify(lambda ok: ok in (0, 1)):
            raise ImageError(f"cannot decode the WEBP animation: {self._message()}")

    @property
    def _webp(self) -> _webp.ImageWebp:
        return cast("_webp.ImageWebp", self._lib)


class WebpFrames:
    """The frames of the WebP ``data`` (its first current), of ``size`` (its header's,
    read before: the sandbox's memory is bounded by it), decoded on ``backend`` within
    the image's ``budget`` (``timeout`` seconds per call into its sandbox at most)."""

    def __init__(self, data: bytes, size: tuple[int, int], backend: str | None,
                 timeout: float | None, budget: TimeBudget) -> None:
        self._budget = budget
        with budget.spending():
            self._animation = Animation(FORMATS["WEBP"], data, size[0] * size[1], timeout,
                                         backend, exactly(size), budget)
            try:  # every frame is a chunk of the file: no more of them than its bytes
                self._count = self._animation.count(len(data))
            except BaseException:
                self._animation.close()
                raise
        self.mode, self.size = self._animation.mode, self._animation.size
        self.palette: ImagePalette.ImagePalette | None = None
        self.info: Info = {key: value for key, value in self._animation.info.items()
                     if key not in ("timestamp", "duration")}
        self._frame = self._decoded = 0  # current; frames the decoder has given
        self._end = 0  # when the last frame decoded ends

    @property
    def n_frames(self) -> int:
        return self._count

    @property
    def is_animated(self) -> bool:
        return self._count > 1

    def seek(self, frame: int) -> None:
        if not 0 <= frame < self._count:
            raise EOFError("attempt to seek outside sequence")
        self._frame = frame
        self.info.pop("timestamp", None)
        self.info.pop("duration", None)

    def tell(self) -> int:
        return self._frame

    def pixels(self) -> Image.Image:
        with self._budget.spending():
            return self._pixels()

    def _pixels(self) -> Image.Image:
        if self._frame < self._decoded:
            self._animation.rewind()
            self._decoded = self._end = 0
        decoded, self._decoded = self._decoded, self._count  # failing: rewind next time
        while decoded <= self._frame:
            start = self._end
            pointer, self._end = self._animation.next_frame(start)
            decoded += 1
        self._decoded = decoded
        self.info["timestamp"], self.info["duration"] = start, self._end - start
        return self._animation.frame(pointer)

    def close(self) -> None:
        self._animation.close()
