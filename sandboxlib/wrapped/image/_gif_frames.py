"""A GIF's frames as Pillow gives them: Pillow's own ``GifImageFile`` reads the file's
blocks (Python: extensions, descriptors, palettes) and composes each frame (disposal,
per-frame palettes, frames after the first in RGB or RGBA under its
``LOADING_STRATEGY``); only what Pillow does in C on the file's bytes, the LZW decoding
of a frame, is giflib's, in the image's frame sandbox (``FrameDecoder``), bounded by
its largest frame's size."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import IO

from PIL import GifImagePlugin, Image, ImageFile

from ._pillow_frames import FrameDecoder, PillowFrames, sandboxed_tiles
from ._time import TimeBudget

DECODER = "sandboxlib.gif"  # the sandboxed LZW decoder's name in Pillow's registry


def _sub_blocks(fp: IO[bytes]) -> Iterator[bytes]:
    """The data sub-blocks at ``fp``'s position, each with its length byte, up to the
    terminator (which ends them: the file broken off too)."""
    while (size := fp.read(1)) and size[0]:
        block = fp.read(size[0])
        yield size + block
        if len(block) < size[0]:
            return


def one_frame(lzw: bytes, size: tuple[int, int], bits: int, interlace: bool) -> bytes:
    """A GIF of one frame of ``size`` filling its screen, without palettes: the LZW
    code size ``bits`` and data sub-blocks ``lzw`` of a frame of another GIF."""
    return (b"GIF89a" + struct.pack("<HHBBB", *size, 0, 0, 0) + b","
            + struct.pack("<HHHHB", 0, 0, *size, 0x40 if interlace else 0)
            + bytes([bits]) + lzw + b"\0;")


class SandboxedLzw(ImageFile.PyDecoder):
    """Pillow's GIF decoder's part, with its arguments (LZW code size, interlace, the
    index left undrawn or -1) and the image's ``FrameDecoder``: the frame's indices
    decoded by giflib there, then drawn in the tile."""

    _pulls_fd = True

    def decode(self, buffer: Image.DecoderInput) -> tuple[int, int]:
        bits, interlace, transparency, decoder = self.args
        assert self.fd is not None and self.im is not None
        size = self.state.xsize, self.state.ysize
        data = one_frame(b"".join(_sub_blocks(self.fd)), size, bits, interlace)
        indices = decoder.decode(data, size).tobytes()
        frame = Image.frombytes(self.mode, size, indices)
        if transparency < 0:
            self.im.paste(frame.im, self.state.extents())
        else:  # Pillow's decoder leaves the transparent index's pixels as they were
            mask = Image.frombytes("L", size, indices).point(
                [0 if i == transparency else 255 for i in range(256)])
            self.im.paste(frame.im, self.state.extents(), mask.im)
        return -1, 0


class _Reader(GifImagePlugin.GifImageFile):
    """Pillow's GIF reader, its frames decoded by ``SandboxedLzw`` in ``decoder``."""

    def __init__(self, fp: IO[bytes], decoder: FrameDecoder) -> None:
        self.decoder = decoder
        super().__init__(fp)

    def _seek(self, frame: int, update_image: bool = True) -> None:
        super()._seek(frame, update_image)
        self.tile = sandboxed_tiles(self.tile, DECODER, self.decoder)


class GifFrames(PillowFrames):
    """The frames of the GIF ``data`` (its first current), decoded on ``backend`` within
    the image's ``budget`` (``timeout`` seconds per call into a sandbox at most)."""

    def __init__(self, data: bytes, backend: str | None, timeout: float | None,
                 budget: TimeBudget) -> None:
        Image.register_decoder(DECODER, SandboxedLzw)
        decoder = FrameDecoder("GIF", backend, timeout, budget)
        super().__init__("GIF", lambda: _Reader(io.BytesIO(data), decoder), decoder)
