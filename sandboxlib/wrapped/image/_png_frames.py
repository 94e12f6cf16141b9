"""An APNG's frames as Pillow gives them: Pillow's own ``PngImageFile`` reads the
chunks (Python: acTL, fcTL, fdAT's sequence, the default image outside the animation or
not) and composes each frame (dispose and blend ops, transparency); only what Pillow
does in C on the file's bytes, the inflating and unfiltering of a frame's image data, is
libpng's, in the image's frame sandbox (``FrameDecoder``), bounded by its largest
frame's size."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import IO, TYPE_CHECKING, NamedTuple

from PIL import Image, ImageFile, PngImagePlugin

from ._errors import ImageError
from ._pillow_frames import BROKEN, FrameDecoder, PillowFrames, T, sandboxed_tiles
from ._time import WATCHDOG, TimeBudget

if TYPE_CHECKING:
    from sandboxlib.wrapped.zlib import Inflater

DECODER = "sandboxlib.png"  # the sandboxed PNG decoder's name in Pillow's registry
SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA = (b"IDAT", b"fdAT", b"IEND")  # the chunks that end a PNG's header


class TextInflater:
    """Where a reader of ours has Pillow's reader inflate the compressed chunks it
    reads (the iCCP profile, zTXt and iTXt texts): in one zlib sandbox on ``backend``
    (``close()`` ends it), each inflating a step of the image's ``budget``, bounded as
    Pillow bounds it (``MAX_TEXT_CHUNK``)."""

    def __init__(self, backend: str | None, budget: TimeBudget) -> None:
        self._backend, self._budget = backend, budget
        self._inflater: Inflater | None = None
        self._watched = 0

    def inflate(self, s: bytes) -> bytes:
        """Pillow's ``_safe_zlib_decompress(s)``."""
        with self._budget.spending():
            if self._inflater is None:
                from sandboxlib.wrapped.zlib import Inflater  # (it loads its package)
                with self._budget.first_use(("zlib", self._backend)):
                    self._inflater = Inflater(self._backend)
                self._watched = WATCHDOG.watch(self._budget, self._inflater.sandbox)
            try:
                text, left = self._inflater.inflate(s, PngImagePlugin.MAX_TEXT_CHUNK)
            finally:
                if self._inflater.closed:  # (its sandbox failed: the next is a new one)
                    self.close()
        if left:
            raise ValueError("Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK")
        return text

    def close(self) -> None:
        inflater, self._inflater = self._inflater, None
        if inflater is not None:
            WATCHDOG.unwatch(self._watched)
            inflater.close()


# Pillow's PNG reader inflates the iCCP, zTXt and compressed iTXt chunks it reads by its
# module's _safe_zlib_decompress: while one of ours reads, where to inflate them
INFLATING_ON: ContextVar[TextInflater | None] = ContextVar("INFLATING_ON", default=None)


def _inflate_text(s: bytes) -> bytes:
    """A compressed chunk's text or profile: by the ``TextInflater`` of the reader of
    ours that reads, else as Pillow does."""
    on = INFLATING_ON.get()
    if on is None:
        assert PILLOWS_INFLATE is not None  # (_inflate_texts_in_sandboxes)
        return PILLOWS_INFLATE(s)
    return on.inflate(s)


def _inflate_texts_in_sandboxes() -> None:
    """Make Pillow's PNG reader inflate by ``_inflate_text``; ImageError if this Pillow
    has no such function to replace (its reader would inflate in the host)."""
    if PILLOWS_INFLATE is None:
        raise ImageError("this Pillow's PNG reader inflates its text chunks where "
                         "sandboxlib cannot reach: APNG frames are not available")
    PngImagePlugin._safe_zlib_decompress = _inflate_text


def _pillows_inflate() -> Callable[[bytes], bytes] | None:
    """Pillow's own function (not ours, installed by an earlier import of this module)."""
    found = getattr(PngImagePlugin, "_safe_zlib_decompress", None)
    return getattr(found, "__wrapped__", found)


PILLOWS_INFLATE = _pillows_inflate()
setattr(_inflate_text, "__wrapped__", PILLOWS_INFLATE)


class Header(NamedTuple):
    """What a PNG's chunks before its image data say that a frame needs: IHDR's data
    after the size (bit depth, colour type, methods, interlace), the PLTE chunk (libpng
    needs it to read a palette image's indices; tRNS changes none of the rows it gives,
    Pillow blends with the transparency it read itself), whether acTL makes an APNG."""

    ihdr: bytes
    palette: bytes
    animated: bool


def header(data: bytes) -> Header:
    """The ``Header`` of the PNG ``data`` (the chunks' lengths and types only are read
    here: a broken chunk is the sandbox's to refuse)."""
    ihdr, palette, animated, at = b"", b"", False, len(SIGNATURE)
    while at + 8 <= len(data) and (kind := data[at + 4:at + 8]) not in DATA:
        end = at + 12 + int.from_bytes(data[at:at + 4], "big")
        if kind == b"IHDR":
            ihdr = data[at + 16:end - 4]
        elif kind == b"PLTE":
            palette = data[at:end]
        animated |= kind == b"acTL"
        at = end
    return Header(ihdr, palette, animated)


def verify(data: bytes) -> None:
    """Pillow's ``verify`` of the PNG ``data``, its Python: every chunk's checksum (a
    CRC, the host's zlib's arithmetic, no parsing) up to IEND; a chunk broken off or
    a wrong checksum is ``ImageError``."""
    stream = PngImagePlugin.PngStream(io.BytesIO(data[len(SIGNATURE):]))
    try:
        stream.verify()
    except BROKEN as error:
        raise ImageError(f"broken PNG file: {error}") from error


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def one_frame(image_data: bytes, size: tuple[int, int], head: Header) -> bytes:
    """A PNG of one image of ``size``: the image data (IDAT's or fdAT's, sequence
    numbers left out) of a frame of another PNG, whose header is ``head``."""
    return (SIGNATURE + _chunk(b"IHDR", struct.pack(">II", *size) + head.ihdr) + head.palette
            + _chunk(b"IDAT", image_data) + _chunk(b"IEND", b""))


def _image_data(read: Callable[[int], bytes]) -> Iterator[bytes]:
    """A frame's image data: what Pillow's ``load_read(0)`` gives, a chunk's at a time,
    up to the first other chunk (or the end of a file broken off)."""
    try:
        while part := read(0):
            yield part
    except (struct.error, SyntaxError):  # no next chunk: libpng finds whether data lack
        return


class SandboxedInflate(ImageFile.PyDecoder):
    """Pillow's PNG decoder's part, with its raw mode, the reader's ``load_read``, the
    file's ``Header`` and the image's ``FrameDecoder``: the frame's image data decoded
    by libpng there, as a PNG of that frame alone, then drawn in the tile."""

    _pulls_fd = True

    def decode(self, buffer: Image.DecoderInput) -> tuple[int, int]:
        read, head, decoder = self.args[1:4]  # (then Pillow's interlace flags)
        assert self.im is not None
        size = self.state.xsize, self.state.ysize
        frame = decoder.decode(one_frame(b"".join(_image_data(read)), size, head), size)
        if frame.mode != self.mode:
            raise ImageError(f"the PNG decoder's frame is {frame.mode}, not {self.mode}")
        self.im.paste(frame.im, self.state.extents())
        return -1, 0


class _Reader(PngImagePlugin.PngImageFile):
    """Pillow's PNG reader, its frames decoded by ``SandboxedInflate`` in ``decoder``."""

    def __init__(self, fp: IO[bytes], head: Header, decoder: FrameDecoder) -> None:
        self._sandboxed = head, decoder
        super().__init__(fp)

    def load_prepare(self) -> None:
        super().load_prepare()
        self.tile = sandboxed_tiles(self.tile, DECODER, self.load_read, *self._sandboxed)


class PngFrames(PillowFrames):
    """The frames of the PNG ``data`` (its first current), decoded on ``backend`` within
    the image's ``budget`` (``timeout`` seconds per call into a sandbox at most)."""

    def __init__(self, data: bytes, backend: str | None, timeout: float | None,
                 budget: TimeBudget) -> None:
        Image.register_decoder(DECODER, SandboxedInflate)
        _inflate_texts_in_sandboxes()
        self._texts = TextInflater(backend, budget)
        decoder = FrameDecoder("PNG", backend, timeout, budget)
        super().__init__("PNG", lambda: _Reader(io.BytesIO(data), header(data), decoder),
                         decoder)

    def close(self) -> None:
        self._texts.close()
        super().close()

    def _read(self, step: Callable[[], T]) -> T:
        """``PillowFrames._read``, the chunks Pillow inflates inflated in a zlib sandbox
        that lives as long as the frames sandbox (the read ends it if there is none)."""
        token = INFLATING_ON.set(self._texts)
        try:
            return super()._read(step)
        finally:
            INFLATING_ON.reset(token)
            if not self.decoder.started:
                self._texts.close()
