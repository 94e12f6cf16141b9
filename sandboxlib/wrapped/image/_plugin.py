"""``register()``: ``PIL.Image.open`` decodes the drop-in's formats in sandboxes."""

from __future__ import annotations

import weakref
from typing import Any

from PIL import Image, ImageFile

from sandboxlib.wrapped._skeleton import resolve_backend

from ._budget import budget, pillow_check
from ._formats import Format, chosen
from ._session import Session


class SandboxedImageFile(ImageFile.ImageFile):
    """An image ``Image.open`` opened: its header read in a sandbox of its own, kept
    until ``load()`` decodes the pixels there (or the image is closed)."""

    sandboxed: Format
    backend: str | None = None

    def _open(self) -> None:
        assert self.fp is not None
        data = self.fp.read()
        # Image.open warns above MAX_IMAGE_PIXELS itself: refuse only what it refuses
        session = Session(self.sandboxed, data, budget(None), None, self.backend,
                          lambda w, h: pillow_check(w, h, error_only=True))
        self._session: Session | None = session
        self._closer = weakref.finalize(self, session.close)
        self._mode, self._size = session.mode, session.size
        self.info.update(session.info)
        self.palette = session.palette
        self.tile = []

    def load(self) -> Any:
        session, self._session = getattr(self, "_session", None), None
        if session is not None:
            try:
                self.im = session.pixels().im
            finally:
                self._closer()
        return Image.Image.load(self)

    def close(self) -> None:
        if getattr(self, "_session", None) is not None:
            self._session = None
            self._closer()
        super().close()


def register(*, backend: str | None = None,
             formats: list[str] | tuple[str, ...] | None = None) -> None:
    """Make ``PIL.Image.open`` decode ``formats`` (default: all the drop-in's) through
    the sandboxed decoders, on ``backend``; Pillow's other formats are untouched."""
    backend = resolve_backend(backend)
    wanted = chosen(formats)
    Image.init()  # Pillow's own plugins first, so that they do not replace these later
    for fmt in wanted:
        plugin = type(f"Sandboxed{fmt.name}ImageFile", (SandboxedImageFile,),
                      {"format": fmt.name, "format_description": f"{fmt.name} (sandboxed)",
                       "sandboxed": fmt, "backend": backend})
        Image.register_open(fmt.name, plugin, fmt.accept)
