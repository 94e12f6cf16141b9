"""One image in one fresh sandbox: its header read and checked first, then its pixels
copied once from the sandbox's memory into a Pillow image."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from PIL import Image, ImagePalette

from sandboxlib import Allocation, Limits, Prim, TaintedPtr

from ._errors import ImageError, NotAnImageError
from ._formats import Format, Layout
from ._metadata import READERS
from ._time import WATCHDOG, TimeBudget

if TYPE_CHECKING:  # (reading a class of them loads that format's generated package)
    from . import _gif, _jpeg, _png, _webp
    Whole = _png.ImagePng | _gif.ImageGif | _webp.ImageWebp  # image_pixels
    Proxy = Whole | _jpeg.ImageJpeg  # image_rows

MAX_SIDE = (1 << 31) - 1  # the decoders' ints
HEADROOM = 64 << 20       # the decoders' own allocations beside the pixels (and the file)
MAX_MEMORY = 4 << 30      # wasm32's address space
TIMEOUT = 20.0            # seconds of decoding per image, by default


def _copy_out(pointer: TaintedPtr, n: int, what: str) -> bytes:
    """The ``n`` bytes at ``pointer`` (none when ``n`` is 0), bounds-checked and copied
    out once."""
    return pointer.copy_and_verify(n, lambda got: len(got) == n, what) if n else b""


@functools.cache
def limits(memory: int, timeout: float | None) -> Limits:
    """The limits of a sandbox that may use ``memory`` bytes (rounded up to 16 MiB, so
    that few distinct limits exist: they key the caches new sandboxes look up)."""
    return Limits(memory_bytes=min(MAX_MEMORY, -(-memory // (16 << 20)) * (16 << 20)),
                  timeout=timeout)


def _room(fmt: Format, size: int, pixels: int) -> int:
    """The memory a sandbox needs for a file of ``size`` bytes of ``pixels``."""
    return size + HEADROOM + pixels * fmt.bytes_per_pixel


@functools.cache
def _layouts(fmt: Format) -> dict[int, Layout]:
    return fmt.layouts()


class Session:
    """``fmt``'s decoder on ``data`` in a sandbox of its own, its header read: ``mode``,
    ``size``, ``info`` (transparency and metadata; none if ``info`` is False) and
    ``palette`` as Pillow gives them. ``pixels()`` decodes; ``close()`` ends the
    sandbox (both once). ``max_pixels`` bounds what the sandbox may allocate;
    ``check(width, height)`` refuses a header before any pixel buffer exists. ``read``
    reads another file of the same source in the same sandbox (``fits``: if it has
    room for it). ``budget``: the image's time, whose watchdog may stop the sandbox's
    calls (the caller runs them in its steps)."""

    def __init__(self, fmt: Format, data: bytes, max_pixels: int, timeout: float | None,
                 backend: str | None, check: Callable[[int, int], None],
                 budget: TimeBudget | None = None, *, info: bool = True) -> None:
        self.format = fmt.name
        self._format = fmt
        self._strips = fmt.strips
        chosen = limits(_room(fmt, len(data), max_pixels), timeout)
        self._most = chosen.memory_bytes
        if budget is None:
            self._lib: Proxy = fmt.package.sandbox(backend, limits=chosen)
            self._watched: int | None = None
        else:
            with budget.first_use((fmt.name, backend)):
                self._lib = fmt.package.sandbox(backend, limits=chosen)
            self._watched = WATCHDOG.watch(budget, self._lib.sandbox)
        self._source: Allocation | None = None  # the file's copy: the decoder keeps it
        try:
            self.read(data, check, info=info)
        except BaseException:
            self.close()
            raise

    def fits(self, size: int, pixels: int) -> bool:
        """Whether the sandbox has room for a file of ``size`` bytes of ``pixels``."""
        return _room(self._format, size, pixels) <= self._most

    def read(self, data: bytes, check: Callable[[int, int], None], *,
             info: bool = True) -> None:
        """Reads the header of ``data`` (the decoder resets what the previous file
        left; its copy is freed first, so that memory does not grow file by file)."""
        if self._source is not None:
            self._source.free()
        self._source = source = self._lib.copy_in(data)
        kind, width, height = self._lib.helpers.image_header(source, len(data))
        layouts = _layouts(self._format)
        found = kind.verify(lambda k: k == 0 or k == -1 or k in layouts, "a layout")
        if found <= 0:
            raise NotAnImageError(f"cannot identify the {self.format} image"
                                  + (f": {self._message()}" if found else ""))
        self.size = (width.verify_range(1, MAX_SIDE), height.verify_range(1, MAX_SIDE))
        check(*self.size)
        self.layout = layouts[found]
        self.mode = self.layout.mode
        self.palette = self._palette()
        self.info: dict[str, Any] = ({**READERS[self.format](self._metadata, data),
                                      **self._transparency()} if info else {})

    def pixels(self) -> Image.Image:
        """The decoded image (the sandbox's pixels copied once into it)."""
        image = self._by_strips() if self._strips else self._whole()
        if self.palette is not None:
            image.putpalette(self.palette.palette, "RGB")
        image.info.update(self.info)
        return image

    def close(self) -> None:
        if self._watched is not None:
            WATCHDOG.unwatch(self._watched)
        self._lib.close()

    def _whole(self) -> Image.Image:
        """The pixels of a decoder that decodes the whole image at once."""
        return self._image(cast("Whole", self._lib).image_pixels(), "image")

    def _image(self, pointer: TaintedPtr, what: str) -> Image.Image:
        """The image whose pixels the decoder returned at ``pointer`` (NULL: it failed
        to decode ``what``)."""
        if pointer.is_null():
            raise ImageError(f"cannot decode the {self.format} {what}: {self._message()}")
        return Image.frombytes(self.mode, self.size, self._view(pointer, self.size[1]), "raw",
                               self.layout.rawmode)

    def _by_strips(self) -> Image.Image:
        """The pixels of a decoder that decodes a strip of rows at a time into a buffer
        small enough to stay in the cache while each is copied into the image."""
        height = self.size[1]
        image = Image.new(self.mode, self.size, None)
        # one raw decoder for the whole image (it keeps its row between strips) and one
        # out-parameter for every strip's row count
        decoder = Image._getdecoder(self.mode, "raw", self.layout.rawmode)
        decoder.setimage(image.im, (0, 0, *self.size))
        lib = cast("_jpeg.ImageJpeg", self._lib)
        count = lib.out(Prim.INT)
        try:
            row = 0
            while row < height:
                pointer = lib.image_rows(count)
                n = count.value.verify_range(0, height - row)
                if pointer.is_null() or n == 0:
                    raise ImageError(f"cannot decode the {self.format} image: {self._message()}")
                view = self._view(pointer, n)
                row += n
                # every byte of the strip taken (-1: the image filled, after its last rows)
                if decoder.decode(view) != (-1 if row == height else len(view), 0):
                    raise ImageError(f"the {self.format} decoder's rows do not fill the image")
        finally:
            count.free()
        return image

    def _view(self, pointer: TaintedPtr, rows: int) -> memoryview:
        """The ``rows`` rows of pixels at ``pointer``: a bounds-checked view of the
        sandbox's memory, which Pillow copies out before the next call into the sandbox
        (so it is not ``borrow``ed, whose views the next call releases)."""
        stride = (self.size[0] * self.layout.bits + 7) // 8
        address = pointer.unverified_safe_because("bounds-checked by the view")
        return self._lib.sandbox.memory.view(address, stride * rows)  # any bytes are pixels

    def _message(self) -> str:
        got = self._lib.helpers.image_message()
        text = got.verify(lambda b: all(32 <= c < 127 for c in b)) if got is not None else b""
        return text.decode() or "no reason given"

    def _metadata(self, kind: int) -> bytes | None:
        """The header's metadata of ``kind`` (``image_metadata``), None if it has none."""
        pointer, size = self._lib.helpers.image_metadata(kind)
        if pointer.is_null():
            return None
        return _copy_out(pointer, size.verify_range(0, self._most), "the metadata")

    def _palette(self) -> ImagePalette.ImagePalette | None:
        """The palette of a palette image (a GIF without one, or with a grey ramp for
        one, is an L image to Pillow)."""
        if self.mode != "P":
            return None
        pointer, count = self._lib.helpers.image_palette()
        if pointer.is_null() and self.format == "PNG":
            raise ImageError("the PNG palette image has no palette")
        n = count.verify_range(1, 256) * 3 if not pointer.is_null() else 0
        raw = _copy_out(pointer, n, "the palette")
        if self.format == "GIF" and all(raw[i:i + 3] == bytes([i // 3] * 3)
                                        for i in range(0, n, 3)):
            self.layout = self.layout._replace(mode="L", rawmode="L")
            self.mode = "L"
            return None
        return ImagePalette.raw("RGB", raw)

    def _transparency(self) -> dict[str, Any]:
        """``info["transparency"]`` as Pillow's plugin for the format sets it."""
        pointer, size = self._lib.helpers.image_transparency()
        if pointer.is_null():
            return {}
        n = size.verify_range(1, 256)
        raw = _copy_out(pointer, n, "the transparency")
        if self.format == "GIF":
            return {"transparency": raw[0]}
        if self.layout.rawmode.startswith("P"):  # one transparent entry: its index
            one = raw.count(0) == 1 and raw.count(255) == n - 1
            return {"transparency": raw.index(0) if one else raw}
        values = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, n - 1, 2)]
        if self.mode == "1":
            return {"transparency": 255 if values[0] else 0}
        return {"transparency": tuple(values) if self.mode == "RGB" else values[0]}
