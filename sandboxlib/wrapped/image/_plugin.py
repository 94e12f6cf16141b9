"""``register()``: ``PIL.Image.open`` decodes the drop-in's formats in sandboxes."""

from __future__ import annotations

import copy
import weakref
from typing import Any

from PIL import Image, ImageFile

from sandboxlib.wrapped._skeleton import resolve_backend

from ._budget import budget, exactly, pillow_check
from ._errors import ImageError
from ._formats import Format, chosen
from ._frames import FRAMES, Frames, composed_first
from ._png_frames import verify as verify_png
from ._session import TIMEOUT, Session
from ._source import read_whole
from ._time import TimeBudget


class SandboxedImageFile(ImageFile.ImageFile):
    """An image ``Image.open`` opened: its header read in a sandbox of its own, ended
    at once (an image opened holds no sandbox, however many are open), its pixels
    decoded by ``load()`` in another, bounded by the header's size."""

    sandboxed: Format
    backend: str | None = None
    timeout: float | None = TIMEOUT
    _pending = False  # whether load() has pixels to decode
    _closed = False

    def _open(self) -> None:
        assert self.fp is not None
        self._start(read_whole(self.fp))

    def _start(self, data: bytes) -> None:
        """Reads the header of ``data``, the file's bytes."""
        self._budget = TimeBudget(self.timeout)  # the image's, from its header on
        # Image.open warns above MAX_IMAGE_PIXELS itself: refuse only what it refuses
        with self._budget.spending():
            session = Session(self.sandboxed, data, budget(None), self.timeout, self.backend,
                              lambda w, h: pillow_check(w, h, error_only=True), self._budget)
            session.close()
        self._data, self._pending = data, True
        self._mode, self._size = session.mode, session.size
        self.info.update((key, value) for key, value in session.info.items()
                         if key not in self.sandboxed.info_at_load)
        self.palette = session.palette
        self.tile = []

    def load(self) -> Any:
        if self._pending:  # (until the pixels are decoded: a failed load fails again)
            image = self._decode()
            self._pending = False
            self.im = image.im
            self.info.update((key, image.info[key]) for key in self.sandboxed.info_at_load
                             if key in image.info)
        if self._exclusive_fp and self.fp:  # its bytes were read at open: closed as
            self.fp.close()                 # Pillow closes a loaded image's file
        self.fp = None
        return Image.Image.load(self)

    def close(self) -> None:
        self._pending, self._closed, self._data = False, True, b""
        super().close()

    def verify(self) -> None:
        """Checks the file: its (first) image decoded in a sandbox and dropped, a PNG's
        chunks checked to IEND as Pillow checks them (an APNG's later frames too), what
        a broken file raises raised; then the file is closed, as Pillow leaves it."""
        if not self._closed:
            self._decode()
            if self.sandboxed.name == "PNG":
                verify_png(self._data)
        super().verify()

    def _decode(self) -> Image.Image:
        """The pixels, in a fresh sandbox whose memory is bounded by the size the
        header gave (a header read differently now is refused)."""
        width, height = self.size
        with self._budget.spending():
            session = Session(self.sandboxed, self._data, width * height, self.timeout,
                              self.backend, exactly(self.size), self._budget)
            try:
                if session.mode != self.mode:
                    raise ImageError(f"the {self.format} header's mode changed to "
                                     f"{session.mode}")
                return session.pixels()
            finally:
                session.close()


class AnimatedImageFile(SandboxedImageFile):
    """A GIF, WebP or PNG ``Image.open`` opened, with Pillow's frame API: its first
    frame decoded as any image's unless asked about frames before (or made as the
    others: ``composed_first``), every frame then by the format's ``Frames``."""

    _frames: Frames | None = None
    _frame = 0

    def _start(self, data: bytes) -> None:
        super()._start(data)
        if composed_first(self.sandboxed.name, data):
            self._animation()

    @property
    def n_frames(self) -> int:
        return self._animation().n_frames

    @property
    def is_animated(self) -> bool:
        return self._animation().is_animated

    def tell(self) -> int:
        return self._frame

    def seek(self, frame: int) -> None:
        if frame == self._frame:
            return
        frames = self._animation()
        frames.seek(frame)
        self._frame = frame
        self._im = None
        self._sync(frames)

    def load(self) -> Any:
        if self._frames is not None and self._im is None:
            self.im = self._frames.pixels().im
            self._sync(self._frames)
        return super().load()

    def close(self) -> None:
        if self._frames is not None:
            self._frames_closer()
        super().close()

    def _animation(self) -> Frames:
        """The frames, made at the first call: from then on they give every frame, the
        first too if it was not decoded yet (the native backend's build keeps one
        image's state)."""
        if self._closed:  # (as Pillow's plugins refuse: no sandbox for a closed image)
            raise ValueError("Operation on closed image")
        if self._frames is None:
            frames = self._frames = FRAMES[self.sandboxed.name](
                self._data, self.size, self.backend, self.timeout, self._budget)
            self._frames_closer = weakref.finalize(self, frames.close)
            if self._pending:
                self._pending = False
                self._sync(frames)
        return self._frames

    def _sync(self, frames: Frames) -> None:
        """The current frame's mode, size, palette and info, as Pillow's plugin has
        them."""
        self._mode, self._size = frames.mode, frames.size
        self.info = dict(frames.info)
        self.palette = copy.copy(frames.palette)


def register(*, backend: str | None = None,
             formats: list[str] | tuple[str, ...] | None = None,
             timeout: float | None = TIMEOUT) -> None:
    """Make ``PIL.Image.open`` decode ``formats`` (default: all the drop-in's) through
    the sandboxed decoders, on ``backend``, ``timeout`` seconds of decoding per image
    (its header, pixels and every frame together); Pillow's other formats are
    untouched."""
    backend = resolve_backend(backend)
    wanted = chosen(formats)
    Image.init()  # Pillow's own plugins first, so that they do not replace these later
    for fmt in wanted:
        base = AnimatedImageFile if fmt.name in FRAMES else SandboxedImageFile
        plugin = type(f"Sandboxed{fmt.name}ImageFile", (base,),
                      {"format": fmt.name, "format_description": f"{fmt.name} (sandboxed)",
                       "sandboxed": fmt, "backend": backend, "timeout": timeout})
        Image.register_open(fmt.name, plugin, fmt.accept)
