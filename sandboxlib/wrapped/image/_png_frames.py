"""An APNG's frames as Pillow gives them: Pillow's own ``PngImageFile`` reads the
chunks (Python: acTL, fcTL, fdAT's sequence, the default image outside the animation or
not) and composes each frame (dispose and blend ops, transparency); only what Pillow
does in C on the file's bytes, the inflating and unfiltering of a frame's image data, is
libpng's, in a fresh sandbox per frame, bounded by the frame's size."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import IO, NamedTuple

from PIL import Image, ImageFile, PngImagePlugin

from ._errors import ImageError
from ._pillow_frames import BROKEN, T, PillowFrames, decode_frame, sandboxed_tiles

DECODER = "sandboxlib.png"  # the sandboxed PNG decoder's name in Pillow's registry
SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA = (b"IDAT", b"fdAT", b"IEND")  # the chunks that end a PNG's header


class Inflating(NamedTuple):
    """Set while a reader of ours reads: the backend of its sandboxes."""

    backend: str | None


# Pillow's PNG reader inflates the iCCP, zTXt and compressed iTXt chunks it reads by its
# module's _safe_zlib_decompress: while one of ours reads, where to inflate them
INFLATING_ON: ContextVar[Inflating | None] = ContextVar("INFLATING_ON", default=None)


def _inflate_text(s: bytes) -> bytes:
    """A compressed chunk's text or profile: in a sandbox of its own (sandboxlib's zlib,
    bounded as Pillow bounds it) while a reader of ours reads, else as Pillow does."""
    on = INFLATING_ON.get()
    if on is None:
        assert PILLOWS_INFLATE is not None  # (_inflate_texts_in_sandboxes)
        return PILLOWS_INFLATE(s)
    from sandboxlib.wrapped import zlib as sandboxed  # (it loads its package: at first use)
    inflater = sandboxed.decompressobj(backend=on.backend)
    text = inflater.decompress(s, PngImagePlugin.MAX_TEXT_CHUNK)
    if inflater.unconsumed_tail:
        raise ValueError("Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK")
    return text


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
    file's ``Header`` and the backend: the frame's image data decoded by libpng in a
    fresh sandbox, as a PNG of that frame alone, then drawn in the tile."""

    _pulls_fd = True

    def decode(self, buffer: Image.DecoderInput) -> tuple[int, int]:
        read, head, backend, timeout = self.args[1:5]  # (then Pillow's interlace flags)
        assert self.im is not None
        size = self.state.xsize, self.state.ysize
        frame = decode_frame("PNG", one_frame(b"".join(_image_data(read)), size, head), size,
                             backend, timeout)
        if frame.mode != self.mode:
            raise ImageError(f"the PNG decoder's frame is {frame.mode}, not {self.mode}")
        self.im.paste(frame.im, self.state.extents())
        return -1, 0


class _Reader(PngImagePlugin.PngImageFile):
    """Pillow's PNG reader, its frames decoded by ``SandboxedInflate`` on ``backend``."""

    def __init__(self, fp: IO[bytes], head: Header, backend: str | None,
                 timeout: float | None) -> None:
        self._sandboxed = head, backend, timeout
        super().__init__(fp)

    def load_prepare(self) -> None:
        super().load_prepare()
        self.tile = sandboxed_tiles(self.tile, DECODER, self.load_read, *self._sandboxed)


class PngFrames(PillowFrames):
    """The frames of the PNG ``data`` (its first current), decoded on ``backend``,
    ``timeout`` seconds per call into a sandbox."""

    def __init__(self, data: bytes, backend: str | None, timeout: float | None) -> None:
        Image.register_decoder(DECODER, SandboxedInflate)
        _inflate_texts_in_sandboxes()
        self._inflating_on = Inflating(backend)
        super().__init__("PNG", lambda: _Reader(io.BytesIO(data), header(data), backend,
                                                timeout))

    def _read(self, step: Callable[[], T]) -> T:
        """``PillowFrames._read``, the chunks Pillow inflates inflated in sandboxes."""
        token = INFLATING_ON.set(self._inflating_on)
        try:
            return super()._read(step)
        finally:
            INFLATING_ON.reset(token)
