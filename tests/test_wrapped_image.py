"""sandboxlib.wrapped.image: libpng (with zlib), giflib, libjpeg-turbo and libwebp,
fetched pinned, decoding images made here (by Pillow, or by ``png`` and ``gif`` below where
Pillow cannot write the file: 2- and 4-bit grey, 16-bit colour, interlaced PNG and APNG,
a GIF frame off its screen) to exactly what Pillow decodes, pixels and ``info`` (ICC profiles,
Exif, XMP, resolution, text, comments, animation keys), through
``open()`` and through ``PIL.Image.open`` after ``register()``, on both isolating
backends; hostile files end in clean exceptions and the next image decodes."""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import ISOLATING_BACKENDS
from hypothesis import given
from hypothesis import strategies as st
from PIL import (GifImagePlugin, Image, ImageCms, ImageFile, ImageOps, ImageSequence,
                 PngImagePlugin, UnidentifiedImageError)

import sandboxlib.wrapped.image as si
from sandboxlib.wrapped.image import _metadata
from sandboxlib import ResourceError, SandboxError, TaintError
from sandboxlib.codegen.packages import load_generated
from sandboxlib.errors import BoundsError
from sandboxlib.wrapped.image._budget import budget, checker
from sandboxlib.wrapped.image._formats import Format
from sandboxlib.wrapped.image._session import Session
from sandboxlib.wrapped.image._webp_frames import Animation
from sandboxlib.toolchain.cache import CACHE_ENV
from sandboxlib.toolchain.guard import NO_COMPILE_ENV

from libs import C_SRC

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]  # (x0, y0, dx, dy) of each pass
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, color: int, depth: int, *, interlace: bool = False,
        seed: int = 1, extra: bytes = b"", filters: bytes = b"\0") -> bytes:
    """A PNG of random samples (``extra``: chunks before IDAT; a palette image gets a
    PLTE of 2**depth entries; ``filters``: the rows' filter types in turn, which make
    the random bytes differences from the row before or the pixel to the left)."""
    rng = random.Random(seed)
    samples = [[rng.randrange(1 << depth) for _ in range(width * CHANNELS[color])]
               for _ in range(height)]
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw, rows = b"", 0
    for x0, y0, dx, dy in passes:
        for y in range(y0, height, dy):
            row = [v for x in range(x0, width, dx)
                   for v in samples[y][x * CHANNELS[color]:(x + 1) * CHANNELS[color]]]
            if row:
                raw += bytes([filters[rows % len(filters)]]) + pack(row, depth)
                rows += 1
    head = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, int(interlace))
    if color == 3:
        extra = chunk(b"PLTE", bytes(rng.randrange(256) for _ in range(3 << depth))) + extra
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + extra
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def chunks(data: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """Where each chunk of the PNG ``data`` starts, its type and its data."""
    at = 8
    while at < len(data):
        end = at + 12 + int.from_bytes(data[at:at + 4], "big")
        yield at, data[at + 4:at + 8], data[at + 8:end - 4]
        at = end


def rechunked(data: bytes, kind: bytes, nth: int, edit: Callable[[bytes], bytes]) -> bytes:
    """The PNG ``data`` with its ``nth`` chunk of ``kind`` (from 0) holding ``edit`` of
    what it held, its length and CRC made to match."""
    at, body = [(at, body) for at, k, body in chunks(data) if k == kind][nth]
    return data[:at] + chunk(kind, edit(body)) + data[at + 12 + len(body):]


def fctl(index: int, width: int, height: int, x: int = 0, y: int = 0,
         ops: bytes = b"\0\0") -> bytes:
    """An APNG frame control (sequence number ``index``) of 10 ms, dispose and blend op
    ``ops``."""
    return chunk(b"fcTL", struct.pack(">IIIIIHH", index, width, height, x, y, 1, 100) + ops)


def apng(color: int, depth: int, extra: bytes = b"", *, interlace: bool) -> bytes:
    """An APNG Pillow does not write (``interlace``d, of any ``color`` and ``depth``): its
    IDAT the first frame, a second at an offset blended over it (``extra``: chunks
    before IDAT)."""
    second = png(6, 5, color, depth, interlace=interlace, seed=2)
    data = next(body for _, kind, body in chunks(second) if kind == b"IDAT")
    first = png(13, 11, color, depth, interlace=interlace, extra=chunk(
        b"acTL", struct.pack(">II", 2, 0)) + extra + fctl(0, 13, 11, ops=b"\1\0"))
    return (first[:-12] + fctl(1, 6, 5, 4, 3, ops=b"\0\1")
            + chunk(b"fdAT", struct.pack(">I", 2) + data) + first[-12:])


def pack(values: list[int], depth: int) -> bytes:
    if depth >= 8:
        return b"".join(v.to_bytes(depth // 8, "big") for v in values)
    bits = "".join(format(v, f"0{depth}b") for v in values)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def gif(screen: tuple[int, int], frame: tuple[int, int, int, int], *,
        transparent: int | None = None, interlace: bool = False) -> bytes:
    """A GIF of one ``frame`` (left, top, width, height) of 4-colour indices on a
    ``screen`` that may not hold it, LZW-coded with a clear code every two pixels (so
    every code is 3 bits)."""
    return animated_gif(screen, [(frame, 0, transparent, None)], interlace=interlace)


def animated_gif(screen: tuple[int, int],
                 frames: list[tuple[tuple[int, int, int, int], int, int | None, bytes | None]],
                 *, interlace: bool = False) -> bytes:
    """A GIF of ``frames``, each its rectangle (as ``gif``'s frame), disposal method,
    transparent index or None and local palette (4 colours) or None, on a global
    palette of 4 colours; a frame's indices start where the frame before left off."""
    out = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x81, 0, 0) + bytes(range(10, 22))
    shift = 0
    for (left, top, width, height), disposal, transparent, local in frames:
        if transparent is not None or disposal:
            out += b"!\xf9\x04" + bytes([disposal << 2 | (transparent is not None), 3, 0,
                                          transparent or 0, 0])
        indices = [(x + 2 * y + shift) % 4 for y in range(height) for x in range(width)]
        shift += 1
        codes = [c for i in range(0, len(indices), 2) for c in (4, *indices[i:i + 2])] + [5]
        bits = sum(c << 3 * i for i, c in enumerate(codes))
        data = bits.to_bytes(-(-3 * len(codes) // 8), "little")
        blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                          for i in range(0, len(data), 255)) + b"\0"
        flags = (0x40 if interlace else 0) | (0x81 if local is not None else 0)
        out += (b"," + struct.pack("<HHHHB", left, top, width, height, flags) + (local or b"")
                + b"\2" + blocks)
    return out + b";"


# Every colour type at every bit depth PNG allows.
DEPTHS = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4),
          (3, 8), (4, 8), (4, 16), (6, 8), (6, 16)]


def saved(image: Image.Image, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, **options)
    return out.getvalue()


def photo(mode: str = "RGB", size: tuple[int, int] = (61, 47)) -> Image.Image:
    grad = Image.radial_gradient("L").resize(size)
    rgb = Image.merge("RGB", [grad, grad.transpose(Image.Transpose.ROTATE_180),
                              Image.linear_gradient("L").resize(size)])
    if mode == "RGBA":  # with an alpha that varies
        rgb.putalpha(grad.transpose(Image.Transpose.TRANSPOSE).resize(size))
    return rgb.convert(mode)


def busy(size: tuple[int, int]) -> Image.Image:
    """Saturated colours changing at every pixel (a seeded pattern): the largest
    high-frequency coefficients, and colours past the range before clamping."""
    noise = random.Random(size[0]).getrandbits(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, bytes(
        255 * (noise >> i & 1) for i in range(size[0] * size[1] * 3)))


def tiles(size: tuple[int, int]) -> Image.Image:
    """Flat 16x16 tiles of saturated colours: blocks whose DC alone decodes past
    the range at quality 1."""
    image = Image.new("RGB", size)
    colours = [(255, 255, 255), (0, 0, 0), (255, 0, 0), (0, 0, 255), (0, 255, 0)]
    corners = [(x, y) for y in range(0, size[1], 16) for x in range(0, size[0], 16)]
    for i, (x, y) in enumerate(corners):
        image.paste(colours[i % len(colours)], (x, y, x + 16, y + 16))
    return image


# the SIMD code's extremes: quality 100 (quantizers 1) and 1 (255), every subsampling,
# odd sizes (partial blocks and MCUs), restarts, progressive
EXTREMES = {f"jpeg-busy-q{q}-{s}": saved(busy(size), format="JPEG", quality=q, subsampling=s)
            for q in (1, 100) for s, size in ((0, (17, 9)), (1, (33, 18)), (2, (41, 23)))}
EXTREMES["jpeg-busy-q100-restarts"] = saved(busy((67, 35)), format="JPEG", quality=100,
                                            restart_marker_blocks=3)
EXTREMES["jpeg-busy-q1-progressive"] = saved(busy((50, 31)), format="JPEG", quality=1,
                                             progressive=True)
EXTREMES["jpeg-flat-q1"] = saved(tiles((80, 48)), format="JPEG", quality=1)
EXTREMES["jpeg-busy-grey"] = saved(busy((19, 13)).convert("L"), format="JPEG", quality=100)


def pillow(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image


def garbled(data: bytes, at: float, n: int = 24) -> bytes:
    """``data`` with ``n`` bytes from ``at`` (a fraction of it) scrambled, none made 0xff
    (so a JPEG's entropy-coded data stays data: no marker appears)."""
    i = int(len(data) * at)
    bad = bytes((b * 37 + 11) & 0xFF for b in data[i:i + n]).replace(b"\xff", b"\0")
    return data[:i] + bad + data[i + n:]


# Pillow's info keys the drop-in does not give: PNG's rendering hints (libpng folds
# them into its colour-space state), Photoshop's, FlashPix's and MPO's JPEG segments
NOT_KEPT = {"gamma", "srgb", "chromaticity", "photoshop", "flashpix", "mp", "mpoffset"}


def kept(info: dict[Any, Any]) -> dict[Any, Any]:
    return {key: value for key, value in info.items() if key not in NOT_KEPT}


def assert_as_pillow(got: Image.Image, data: bytes) -> None:
    want = pillow(data)
    assert (got.mode, got.size) == (want.mode, want.size)
    assert got.tobytes() == want.tobytes()
    assert got.getpalette() == want.getpalette()
    assert kept(got.info) == kept(want.info)


def exif(orientation: int = 1, dpi: float | None = None, unit: int = 2) -> bytes:
    tags = Image.Exif()
    tags[0x0112] = orientation
    if dpi is not None:
        tags[0x011A], tags[0x0128] = dpi, unit
    return tags.tobytes()


ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
TEXTS = PngImagePlugin.PngInfo()
TEXTS.add_text("Software", "sandboxlib")
TEXTS.add_text("Comment", "\xe9t\xe9 " * 400, zip=True)
TEXTS.add_text("exif", "raw bytes, as Pillow keeps them")
TEXTS.add_itxt("Title", "\u00e9t\u00e9 \u2603", lang="fr", tkey="Titre")
TEXTS.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta/>", zip=True)


CORPUS: dict[str, bytes] = {
    **{f"png-{c}-{d}": png(13, 11, c, d) for c, d in DEPTHS},
    **{f"png-{c}-{d}-interlaced": png(19, 17, c, d, interlace=True) for c, d in DEPTHS},
    # every filter type on rows of 1 to 8 bytes a pixel (libpng's SIMD filters: 3 and 4)
    **{f"png-{c}-{d}-filters": png(37, 29, c, d, filters=b"\1\2\3\4\0\4\3\2")
       for c, d in [(0, 8), (4, 8), (2, 8), (6, 8), (2, 16), (6, 16), (3, 4)]},
    "png-2-8-filters-interlaced": png(37, 29, 2, 8, interlace=True, filters=b"\4\1\3\2"),
    "png-grey-trns": png(9, 9, 0, 8, extra=chunk(b"tRNS", b"\0\x07")),
    "png-grey2-trns": png(9, 9, 0, 2, extra=chunk(b"tRNS", b"\0\x01")),
    "png-grey1-trns": png(9, 9, 0, 1, extra=chunk(b"tRNS", b"\0\x01")),
    "png-grey16-trns": png(9, 9, 0, 16, extra=chunk(b"tRNS", b"\x12\x34")),
    "png-rgb-trns": png(9, 9, 2, 8, extra=chunk(b"tRNS", b"\0\1\0\2\0\3")),
    "png-rgb16-trns": png(9, 9, 2, 16, extra=chunk(b"tRNS", b"\1\1\2\2\3\3")),
    "png-p-one-transparent": png(9, 9, 3, 4, extra=chunk(b"tRNS", b"\xff\xff\0\xff")),
    "png-p-alphas": png(9, 9, 3, 8, extra=chunk(b"tRNS", bytes(range(0, 250, 7)))),
    "png-pillow-rgba": saved(photo("RGBA"), format="PNG"),
    "png-pillow-p": saved(photo("P"), format="PNG", transparency=5),
    "png-pillow-1": saved(photo("1"), format="PNG"),
    "jpeg": saved(photo(), format="JPEG"),
    "jpeg-444": saved(photo(), format="JPEG", quality=95, subsampling=0),
    "jpeg-422": saved(photo(), format="JPEG", subsampling=1),
    "jpeg-progressive": saved(photo(size=(203, 101)), format="JPEG", progressive=True),
    "jpeg-optimized-restarts": saved(photo(), format="JPEG", optimize=True, restart_marker_rows=1),
    "jpeg-grey": saved(photo("L"), format="JPEG"),
    # above 3 KiB per MCU row left: libjpeg-turbo's fast Huffman path, with its bit buffer
    "jpeg-fast-huffman": saved(photo(size=(256, 192)), format="JPEG", quality=95),
    # corrupt entropy-coded data: libjpeg decodes it (warning), to the same wrong pixels
    "jpeg-corrupt-huffman": garbled(saved(photo(size=(256, 192)), format="JPEG",
                                          quality=95), 0.5),
    "jpeg-progressive-corrupt": garbled(saved(photo(size=(256, 192)), format="JPEG",
                                              quality=95, progressive=True), 0.6),
    "jpeg-cmyk": saved(photo("CMYK"), format="JPEG"),
    "jpeg-metadata": saved(photo(), format="JPEG", icc_profile=ICC, exif=exif(6),
                           dpi=(300, 150), comment=b"made here", xmp=b"<x:xmpmeta/>"),
    # an ICC profile in three APP2 segments (64 KiB each at most)
    "jpeg-icc-fragments": saved(photo(), format="JPEG", icc_profile=bytes(range(256)) * 600),
    "jpeg-exif-dpi": saved(photo(), format="JPEG", exif=exif(3, 118.0, 3)),
    "jpeg-exif-no-dpi": saved(photo(), format="JPEG", exif=exif(8)),
    "jpeg-progressive-dpcm": (lambda b: b[:13] + b"\2" + b[14:])(
        saved(photo(), format="JPEG", progressive=True, dpi=(20, 40))),
    "png-metadata": saved(photo(), format="PNG", icc_profile=ICC, exif=exif(6), dpi=(72, 96)),
    "png-text": saved(photo("P"), format="PNG", pnginfo=TEXTS),
    "png-aspect": png(9, 9, 2, 8, extra=chunk(b"pHYs", struct.pack(">IIB", 3, 2, 0))),
    "webp-metadata": saved(photo(), format="WEBP", icc_profile=ICC, exif=exif(6),
                           xmp=b"<x:xmpmeta/>"),
    "gif-animated-comment": saved(photo("P"), format="GIF", save_all=True, loop=3,
                                  duration=70, comment=b"made here",
                                  append_images=[photo("P").rotate(90)]),
    **EXTREMES,
    "webp": saved(photo(), format="WEBP", quality=80),
    "webp-odd-size": saved(photo(size=(203, 101)), format="WEBP", quality=95, method=6),
    "webp-lossless": saved(photo(), format="WEBP", lossless=True),
    "webp-alpha": saved(photo("RGBA"), format="WEBP"),
    "webp-lossless-alpha": saved(photo("RGBA"), format="WEBP", lossless=True),
    "webp-animated": saved(photo("RGBA"), format="WEBP", save_all=True,
                           append_images=[photo("RGBA").rotate(90)]),
    "gif": saved(photo("P"), format="GIF"),
    "gif-transparency": saved(photo("P"), format="GIF", transparency=7, optimize=False),
    "gif-grey": saved(photo("L"), format="GIF", optimize=False),
    "gif-interlaced": saved(photo("P"), format="GIF", interlace=True),
    "gif-frame-off-screen": gif((5, 4), (3, 2, 6, 7)),
    "gif-frame-inside-transparent": gif((9, 8), (2, 1, 5, 5), transparent=2),
    "gif-frame-interlaced": gif((4, 4), (0, 0, 4, 11), interlace=True),
    "gif-animated": saved(photo("P"), format="GIF", save_all=True,
                          append_images=[photo("P").rotate(90)]),
}


def palette_frames(count: int, size: tuple[int, int] = (61, 47)) -> list[Image.Image]:
    """``count`` frames turned by ever more, each with a palette of its own."""
    return [photo(size=size).rotate(40 * k).convert("P", palette=Image.Palette.ADAPTIVE,
                                                     colors=16 + 60 * k)
            for k in range(count)]


def patched(image: Image.Image, box: tuple[int, int, int, int], fill: int) -> Image.Image:
    """``image`` with ``box`` filled (a frame Pillow's writer crops to that box)."""
    image = image.copy()
    image.paste(fill, box)
    return image


def animation(frames: list[Image.Image], **options: Any) -> bytes:
    return saved(frames[0], save_all=True, append_images=frames[1:], **options)


FIRST = palette_frames(1)[0]
SHARED = photo().convert("P", palette=Image.Palette.ADAPTIVE, colors=64)  # one palette
LOCAL = bytes([200, 10, 10, 10, 200, 10, 10, 10, 200, 90, 90, 90])
# Animations whose frames after the first Pillow composes: per-frame palettes, disposal
# 2 and 3, transparency, frames at offsets (Pillow's writer crops each to what changed)
# or past the screen, varying durations; WebP lossy and lossless, with and without alpha.
ANIMATIONS: dict[str, bytes] = {
    "gif-animated-comment": CORPUS["gif-animated-comment"],
    "webp-animated": CORPUS["webp-animated"],
    "gif-palettes-disposal": animation(palette_frames(4), format="GIF", disposal=[0, 2, 3, 1],
                                       duration=[20, 30, 40, 50], loop=0),
    "gif-transparency-disposal": animation(palette_frames(3), format="GIF", transparency=0,
                                           disposal=[2, 3, 2], duration=60, optimize=False),
    # the writer keeps the transparency of the later frames only
    "gif-later-transparency": animation(palette_frames(3), format="GIF", transparency=0,
                                        disposal=[3, 2, 1]),
    "gif-offsets": animation([FIRST, patched(FIRST, (5, 6, 20, 16), 3),
                              patched(FIRST, (30, 20, 50, 40), 9)], format="GIF",
                             duration=[10, 20, 30], disposal=1),
    "gif-grey-frames": animation([photo("L"), photo("L").rotate(90)], format="GIF",
                                 optimize=False),
    "gif-grown-local-palettes": animated_gif((6, 5), [
        ((0, 0, 4, 4), 2, None, None), ((2, 1, 3, 3), 3, 1, LOCAL),
        ((3, 3, 5, 4), 1, 2, None), ((1, 0, 2, 2), 2, 3, LOCAL)]),
    "gif-transparent-first": animated_gif((5, 5), [
        ((1, 1, 3, 3), 3, 0, None), ((0, 0, 4, 2), 2, 2, LOCAL), ((2, 2, 3, 3), 0, None, None)],
        interlace=True),
    "webp-animated-lossless": animation([photo("RGBA"), photo("RGBA").rotate(90),
                                         photo("RGBA").rotate(45)], format="WEBP",
                                        lossless=True, duration=[10, 20, 30], loop=2),
    "webp-animated-lossy": animation([photo(), photo().rotate(90), photo().rotate(180)],
                                     format="WEBP", quality=70, duration=[40, 60, 80]),
    # APNG: disposal 0, 1 (background) and 2 (previous), blend 0 (source) and 1 (over)
    "apng-rgba": animation([photo("RGBA"), patched(photo("RGBA"), (5, 6, 20, 16), 128),
                            patched(photo("RGBA"), (30, 20, 50, 40), 0),
                            photo("RGBA").rotate(30)], format="PNG", disposal=[0, 1, 2, 0],
                           blend=[0, 1, 0, 1], duration=[10, 20, 30, 40], loop=0),
    "apng-palette": animation([SHARED, patched(SHARED, (5, 6, 20, 16), 3),
                               patched(SHARED, (30, 20, 50, 40), 0), SHARED.rotate(30)],
                              format="PNG", disposal=[0, 2, 2, 0], blend=[0, 1, 1, 0],
                              transparency=0),
    "apng-grey": animation([photo("L"), patched(photo("L"), (3, 4, 30, 9), 7),
                            photo("L").rotate(60)], format="PNG", disposal=[0, 2, 0],
                           duration=[50, 60, 70]),
    "apng-1-bit": animation([photo("1"), photo("1").rotate(90)], format="PNG"),
    "apng-16-bit-grey": animation([photo("L").convert("I;16"),
                                   patched(photo("L").convert("I;16"), (3, 3, 9, 9), 999)],
                                  format="PNG"),
    # the first image shown only by viewers without APNG: frame 0 to Pillow
    "apng-default-image": animation([photo(), photo().rotate(20),
                                     patched(photo().rotate(20), (1, 2, 10, 12), 40)],
                                    format="PNG", default_image=True, blend=[1, 0]),
}


@pytest.mark.quick
def test_importing_the_drop_in_loads_no_decoder(tmp_path: Path) -> None:
    """A format's generated package loads at its first image: importing the drop-in
    (and its benchmark) builds nothing, even with an empty cache."""
    env = {**os.environ, CACHE_ENV: str(tmp_path), NO_COMPILE_ENV: "1"}
    code = "import sandboxlib.wrapped.image, sandboxlib.wrapped.image.bench"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "generated").exists()


@pytest.fixture(params=ISOLATING_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def registered(backend: str) -> Iterator[dict[str, Any]]:
    """``register()`` on ``backend`` for the test (yields Pillow's own plugins, put
    back after it)."""
    Image.init()
    pillows = dict(Image.OPEN)
    si.register(backend=backend)
    yield pillows
    Image.OPEN.update(pillows)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_open_decodes_as_pillow_does(name: str, backend: str) -> None:
    data = CORPUS[name]
    image = si.open(data, backend=backend)
    assert image.format == name.split("-")[0].upper()
    assert_as_pillow(image, data)


@pytest.mark.parametrize("subsampling", [1, 2])
def test_chroma_upsampled_as_pillow_at_every_row_end(subsampling: int, backend: str) -> None:
    """4:2:2 and 4:2:0 chroma upsampled with the colour conversion (wasm: in one pass,
    shim/wasm/jdsample-wasm.c): every width from 3 to 36 pixels (the last 1-8 chroma
    columns of a row in each position, and the 1-2 columns libjpeg upsamples its own way),
    odd heights, the extreme quantizers, the same pixels as Pillow's."""
    for width in range(3, 37):
        for quality in (1, 100):
            data = saved(busy((width, 2 * width % 13 + 3)), format="JPEG", quality=quality,
                         subsampling=subsampling)
            assert_as_pillow(si.open(data, backend=backend), data)


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
def test_a_jpeg_decoded_strip_by_strip_is_pillows_image(mode: str, backend: str) -> None:
    """JPEG decodes a strip of rows at a time (256 KiB, so 16 rows of a 4096-wide RGB
    image, 64 of a grey one): images whose rows end a strip, a partial last strip, one
    row, and strips of a single row (a row wider than a strip) come out as Pillow's."""
    for size in ((4096, 16), (4096, 50), (4096, 1), (1024, 257), (65000, 3)):
        data = saved(busy(size).convert(mode), format="JPEG", quality=90)
        assert_as_pillow(si.open(data, backend=backend), data)


HOSTILE_IMAGE = C_SRC / "hostile_image" / "hostile_image.toml"


@pytest.mark.parametrize("lie, refusal", [(1, TaintError), (2, TaintError), (3, BoundsError),
                                          (4, si.ImageError)])
def test_a_decoder_lying_about_its_strips_is_refused(lie: int, refusal: type[Exception],
                                                     backend: str) -> None:
    """A decoder module that claims more rows than the image has left, a negative count,
    a strip outside its memory, or no rows before the image is complete ends in an
    exception of SandboxError's family; told the truth, it gives its (zero) pixels."""
    fmt = Format("JPEG", lambda head: True, load_generated(HOSTILE_IMAGE), 16, strips=True)
    for data, expected in ((bytes(16), None), (bytes([lie]) + bytes(15), refusal)):
        session = Session(fmt, data, budget(None), None, backend, checker(None))
        try:
            if expected is None:
                assert session.pixels().tobytes() == bytes(8 * 8 * 3)
            else:
                with pytest.raises(expected):
                    session.pixels()
        finally:
            session.close()


@pytest.mark.parametrize("lie, refusal", [(5, TaintError), (6, TaintError), (7, TaintError),
                                          (8, BoundsError)])
def test_a_decoder_lying_about_its_frames_is_refused(lie: int, refusal: type[Exception],
                                                     backend: str) -> None:
    """A decoder module that claims more frames than the file has bytes, none, a frame
    ending before the one before it, or a frame outside its memory ends in an exception
    of SandboxError's family; told the truth, it gives its frames and their times."""
    fmt = Format("WEBP", lambda head: True, load_generated(HOSTILE_IMAGE), 16)
    for data, expected in ((bytes(16), None), (bytes([lie]) + bytes(15), refusal)):
        animation = Animation(fmt, data, budget(None), None, backend, checker(None))
        try:
            if expected is None:
                assert animation.count(len(data)) == 2
                ends = [animation.next_frame(0)[1], animation.next_frame(100)[1]]
                assert ends == [100, 200]
                frame = animation.frame(animation.next_frame(0)[0])
                assert frame.tobytes() == bytes(8 * 8 * 3)
            else:
                with pytest.raises(expected):
                    animation.count(len(data))
                    end = 0
                    for _ in range(2):
                        pointer, end = animation.next_frame(end)
                        animation.frame(pointer)
        finally:
            animation.close()


def test_the_corpus_covers_what_pillow_distinguishes() -> None:
    """The corpus reaches every mode, and the transparency cases are real ones."""
    decoded = {name: pillow(data) for name, data in CORPUS.items()}
    assert {im.mode for im in decoded.values()} >= {"1", "L", "LA", "I;16", "RGB", "RGBA", "P",
                                                          "CMYK"}
    assert decoded["png-p-one-transparent"].info["transparency"] == 2
    assert isinstance(decoded["png-p-alphas"].info["transparency"], bytes)
    assert decoded["png-rgb16-trns"].info["transparency"] == (0x101, 0x202, 0x303)
    assert decoded["gif-transparency"].info["transparency"] == 7
    assert decoded["gif-grey"].mode == "L"
    assert decoded["webp-alpha"].mode == decoded["webp-lossless-alpha"].mode == "RGBA"
    assert decoded["webp-animated"].n_frames == 2  # type: ignore[attr-defined]  # an ImageFile
    assert decoded["jpeg-metadata"].info["icc_profile"] == ICC
    assert decoded["jpeg-metadata"].info["dpi"] == (300, 150)
    assert decoded["jpeg-icc-fragments"].info["icc_profile"] == bytes(range(256)) * 600
    assert decoded["jpeg-exif-dpi"].info["dpi"] == pytest.approx((118 * 2.54,) * 2)
    assert decoded["jpeg-exif-no-dpi"].info["dpi"] == (72, 72)
    assert decoded["jpeg-progressive-dpcm"].info["jfif_unit"] == 2
    assert decoded["png-metadata"].info["dpi"] == pytest.approx((72, 96), abs=0.02)
    assert isinstance(decoded["png-text"].info["Title"], PngImagePlugin.iTXt)
    assert decoded["png-text"].info["xmp"] == b"<x:xmpmeta/>"
    assert decoded["png-aspect"].info["aspect"] == (3, 2)
    assert decoded["webp-metadata"].info["xmp"] == b"<x:xmpmeta/>"
    assert decoded["gif-animated-comment"].info["loop"] == 3


@pytest.mark.parametrize("name", ["jpeg-metadata", "png-metadata", "webp-metadata"])
def test_exif_orientation_reaches_pillow(name: str, backend: str) -> None:
    """``ImageOps.exif_transpose`` turns a sandboxed decode as it turns Pillow's."""
    data = CORPUS[name]
    got = ImageOps.exif_transpose(si.open(data, backend=backend))
    want = ImageOps.exif_transpose(pillow(data))
    assert got.size == want.size == (47, 61)
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("source", ["bytes", "path", "file"])
def test_open_takes_what_pillow_open_takes(source: str, backend: str,
                                           tmp_path: Path) -> None:
    data = CORPUS["png-2-8"]
    path = f"{tmp_path}/image.png"
    with open(path, "wb") as out:
        out.write(data)
    sources: dict[str, bytes | str | IO[bytes]] = {"bytes": data, "path": path,
                                                   "file": io.BytesIO(data)}
    fp = sources[source]
    assert_as_pillow(si.open(fp, backend=backend), data)


@pytest.mark.parametrize("name", ["png-6-16", "png-3-2-interlaced", "gif-transparency",
                                  "jpeg-progressive", "jpeg-cmyk", "webp-alpha",
                                  "webp-animated", "jpeg-metadata", "png-text",
                                  "webp-metadata", "gif-animated-comment"])
def test_pillow_open_decodes_in_the_sandbox_after_register(
        name: str, registered: dict[str, Any]) -> None:
    data = CORPUS[name]
    with Image.open(io.BytesIO(data)) as image:
        assert type(image).__name__.startswith("Sandboxed")
        assert image.format == name.split("-")[0].upper()
        assert image.size == pillow(data).size  # the header only, so far
        image.load()
        sandboxed = image.copy()
    Image.OPEN.update(registered)  # then Pillow's own decoders, to compare with
    assert_as_pillow(sandboxed, data)


def every_frame(data: bytes, first_loaded: bool = False) -> list[Any]:
    """What ``Image.open`` gives of each frame of ``data``: after its seek, and loaded;
    the frames in order, then the first, the last and the second again (the first
    loaded before any question about frames if ``first_loaded``)."""
    with Image.open(io.BytesIO(data)) as opened:
        image: Any = opened  # an ImageFile with frames
        first = [(image.mode, image.size, image.tobytes(), image.getpalette(),
                  dict(image.info))] if first_loaded else []
        seen: list[Any] = [type(image).__name__.startswith("Sandboxed"), *first, image.n_frames,
                           image.is_animated, image.tell()]
        for frame in [*range(image.n_frames), 0, image.n_frames - 1, 1]:
            image.seek(frame)
            seen.append((image.tell(), image.mode, image.size, dict(image.info)))
            image.load()
            seen.append((image.mode, image.size, image.tobytes(), image.getpalette(),
                         dict(image.info)))
        with pytest.raises(EOFError):
            image.seek(image.n_frames)
        assert image.tell() == 1
    return seen


class Refused(ImageFile.PyDecoder):
    """A decoder that must not run: Pillow's own, while the sandboxes decode."""

    def decode(self, buffer: Image.DecoderInput) -> tuple[int, int]:
        raise AssertionError(f"Pillow's own {self.mode} decoder ran")


@pytest.mark.parametrize("first_loaded", [False, True])
@pytest.mark.parametrize("name", sorted(ANIMATIONS))
def test_every_frame_is_pillows_after_register(name: str, first_loaded: bool,
                                               registered: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    data = ANIMATIONS[name]
    with monkeypatch.context() as patch:
        for codec in ("zip", "gif", "webp"):  # Pillow's C decoding of frames
            patch.setitem(Image.DECODERS, codec, Refused)
        sandboxed = every_frame(data, first_loaded)
    Image.OPEN.update(registered)
    pillows = every_frame(data, first_loaded)
    assert sandboxed[0] and not pillows[0]
    for got, want in zip(sandboxed[1:], pillows[1:], strict=True):
        assert got == want


class HostZlib:
    """CPython's zlib for Pillow's PNG reader with its inflating refused."""

    crc32 = staticmethod(zlib.crc32)
    error = zlib.error

    @staticmethod
    def decompressobj(*args: object) -> object:
        raise AssertionError("the host's zlib inflated a chunk")


def test_an_apngs_compressed_chunks_are_inflated_in_sandboxes(
        registered: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Once an APNG's frames are asked for, Pillow's reader reads its chunks: the ICC
    profile and the zTXt and iTXt texts it inflates are inflated in sandboxes (the
    host's zlib refuses), to what Pillow gives."""
    texts = PngImagePlugin.PngInfo()
    texts.add_text("Comment", "a text before the frames " * 200, zip=True)
    texts.add_itxt("Title", "\u00e9" * 300, zip=True)
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], pnginfo=texts,
                   icc_profile=bytes(range(256)) * 12)
    data = out.getvalue()

    def second_frames_info() -> dict[str | tuple[int, int], Any]:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(1)
            image.load()
            return dict(image.info)

    with monkeypatch.context() as patch:
        patch.setattr(PngImagePlugin, "zlib", HostZlib)
        sandboxed = second_frames_info()
    Image.OPEN.update(registered)
    assert sandboxed == second_frames_info()
    assert sandboxed["icc_profile"] == bytes(range(256)) * 12
    assert sandboxed["Title"] == "\u00e9" * 300


def test_pillows_inflating_is_found_under_ours(registered: dict[str, Any]) -> None:
    """Once APNG frames replaced Pillow's inflating function, what a new import of the
    frames module (a reload) takes for Pillow's is still Pillow's, not its replacement
    (which would then call itself)."""
    from sandboxlib.wrapped.image import _png_frames
    pillows = _png_frames.PILLOWS_INFLATE
    every_frame(ANIMATIONS["apng-rgba"])
    assert PngImagePlugin._safe_zlib_decompress is _png_frames._inflate_text
    assert pillows is not None and _png_frames._pillows_inflate() is pillows
    text = zlib.compress(b"a text outside our readers")
    assert PngImagePlugin._safe_zlib_decompress(text) == b"a text outside our readers"


def test_the_native_build_gives_every_frame() -> None:
    """The native backend's build keeps one image's state: the frames, once asked
    for, give the first frame too."""
    Image.init()
    pillows = dict(Image.OPEN)
    for name in ("webp-animated-lossy", "gif-grown-local-palettes", "apng-rgba"):
        si.register(backend="native")
        try:
            sandboxed = every_frame(ANIMATIONS[name])
        finally:
            Image.OPEN.update(pillows)
        assert sandboxed[1:] == every_frame(ANIMATIONS[name])[1:]


@pytest.mark.parametrize("strategy", list(GifImagePlugin.LoadingStrategy))
@pytest.mark.parametrize("name", ["gif-palettes-disposal", "gif-grown-local-palettes",
                                  "gif-transparent-first"])
def test_gif_frames_follow_pillows_loading_strategy(
        name: str, strategy: GifImagePlugin.LoadingStrategy, registered: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GifImagePlugin, "LOADING_STRATEGY", strategy)
    sandboxed = every_frame(ANIMATIONS[name])
    Image.OPEN.update(registered)
    assert sandboxed[1:] == every_frame(ANIMATIONS[name])[1:]


def test_the_animations_cover_what_pillow_distinguishes() -> None:
    """Pillow composes the animations' later frames with both disposals that keep
    something, in RGB, RGBA and L, at offsets and on a screen that grows; the WebP
    frames are RGB and RGBA, their durations vary; the APNG frames have every disposal
    and blend op, in every mode Pillow writes, after a default image or not."""
    seen: dict[str, set[Any]] = {"disposal": set(), "mode": set(), "grown": set(),
                                 "offset": set(), "duration": set(), "apng": set(),
                                 "default": set()}
    for name, data in ANIMATIONS.items():
        with Image.open(io.BytesIO(data)) as opened:
            image: Any = opened  # an ImageFile with frames
            first = image.size
            for frame in range(1, image.n_frames):
                image.seek(frame)
                image.load()
                seen["mode"].add((name[:4], image.mode))
                seen["disposal"].add(getattr(image, "disposal_method", None))
                seen["grown"].add(image.size != first)
                seen["offset"].add(getattr(image, "dispose_extent", (0, 0))[:2] != (0, 0))
                seen["duration"].add((name[:4], image.info.get("duration")))
                if name.startswith("apng"):
                    seen["apng"].add((image.info["disposal"], image.info["blend"]))
                    seen["default"].add(image.default_image)
    assert {2, 3} <= seen["disposal"]
    assert {("gif-", "RGB"), ("gif-", "RGBA"), ("gif-", "L"), ("webp", "RGB"),
            ("webp", "RGBA")} <= seen["mode"]
    assert True in seen["grown"] and True in seen["offset"]
    assert len({d for fmt, d in seen["duration"] if fmt == "webp"}) > 2
    assert len({d for fmt, d in seen["duration"] if fmt == "gif-"}) > 2
    assert {mode for fmt, mode in seen["mode"] if fmt == "apng"} == {
        "RGB", "RGBA", "P", "L", "1", "I;16"}
    assert {(d, b) for d in (0, 1, 2) for b in (0, 1)} - seen["apng"] == {(1, 0)}
    assert seen["default"] == {False, True}


@pytest.mark.parametrize("name, fmt, options", [
    ("gif-palettes-disposal", "GIF", {}), ("gif-grown-local-palettes", "GIF", {}),
    ("webp-animated-lossless", "WEBP", {"lossless": True}), ("apng-rgba", "PNG", {}),
    ("apng-palette", "PNG", {})])
def test_frames_iterate_and_save_as_pillows(name: str, fmt: str, options: dict[str, Any],
                                            registered: dict[str, Any]) -> None:
    """Code that goes through every frame (``ImageSequence``, ``save_all``) gets them
    all, as from Pillow's own plugin."""
    def through(data: bytes) -> tuple[list[bytes], bytes]:
        with Image.open(io.BytesIO(data)) as image:
            frames = [frame.copy().tobytes() for frame in ImageSequence.Iterator(image)]
            return frames, saved(image, format=fmt, save_all=True, **options)

    sandboxed = through(ANIMATIONS[name])
    Image.OPEN.update(registered)
    assert sandboxed == through(ANIMATIONS[name])
    assert len(sandboxed[0]) > 2


def test_a_still_image_has_one_frame(registered: dict[str, Any]) -> None:
    for name in ("gif", "webp", "webp-alpha", "png-2-8", "png-3-2-interlaced"):
        with Image.open(io.BytesIO(CORPUS[name])) as opened:
            image: Any = opened  # an ImageFile with frames
            assert (image.n_frames, image.is_animated) == (1, False)
            image.seek(0)
            with pytest.raises(EOFError):
                image.seek(1)
            assert_as_pillow(image.copy(), CORPUS[name])


def test_register_takes_only_the_formats_asked_for(backend: str) -> None:
    Image.init()
    pillows = dict(Image.OPEN)
    try:
        with pytest.raises(ValueError, match="BMP"):
            si.register(backend=backend, formats=["png", "bmp"])
        assert Image.OPEN == pillows  # nothing registered
        si.register(backend=backend, formats=["png"])
        with Image.open(io.BytesIO(CORPUS["png-2-8"])) as png_file, \
                Image.open(io.BytesIO(CORPUS["gif"])) as gif_file:
            assert type(png_file).__name__ == "SandboxedPNGImageFile"
            assert type(gif_file).__module__ == "PIL.GifImagePlugin"
    finally:
        Image.OPEN.update(pillows)


def test_a_registered_decode_is_under_a_time_limit(backend: str) -> None:
    """``register()``'s images decode under its ``timeout``: its header read well within
    20 ms, 48 Mpx of inflate stops at that limit, far below what it needs."""
    data = zeros_png(8000, 6000)
    Image.init()
    pillows = dict(Image.OPEN)
    try:
        si.register(backend=backend, formats=["png"], timeout=0.02)
        with Image.open(io.BytesIO(data)) as image, \
                pytest.raises(ResourceError, match="time limit"):
            image.load()
    finally:
        Image.OPEN.update(pillows)


def test_a_registered_apngs_later_frame_is_under_the_time_limit(backend: str) -> None:
    """``register()``'s ``timeout`` bounds each frame's sandbox: after a frame of 1x1
    pixel, one of 48 Mpx of zeros stops at a limit of 20 ms."""
    head = struct.pack(">IIBBBBB", 8000, 6000, 8, 0, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"acTL", struct.pack(">II", 2, 0))
            + fctl(0, 1, 1) + chunk(b"IDAT", zlib.compress(b"\0\7")) + fctl(1, 8000, 6000)
            + chunk(b"fdAT", b"\0\0\0\2" + zlib.compress(b"\0" * (8001 * 6000), 9))
            + chunk(b"IEND", b""))
    Image.init()
    pillows = dict(Image.OPEN)
    try:
        si.register(backend=backend, formats=["png"], timeout=0.02)
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.getpixel((0, 0)) == 7
            image.seek(1)
            with pytest.raises(ResourceError, match="time limit"):
                image.load()
    finally:
        Image.OPEN.update(pillows)


@pytest.mark.parametrize("edit, pillows_error", [
    (lambda s: s[:4] + struct.pack(">I", 62) + s[8:], UnidentifiedImageError),  # too wide
    (lambda s: b"\0\0\0\1" + s[4:], UnidentifiedImageError),  # out of sequence
    (lambda s: s[:20], ValueError)])  # broken off
def test_an_apng_whose_first_frame_control_is_hostile_is_refused_at_open(
        edit: Callable[[bytes], bytes], pillows_error: type[Exception],
        registered: dict[str, Any]) -> None:
    """Pillow's ``Image.open`` refuses it; the drop-in, whose header read passes, with
    ``ImageError`` from its frames."""
    data = rechunked(APNG_FRAMES, b"fcTL", 0, edit)
    with pytest.raises(si.ImageError, match="frames"):
        Image.open(io.BytesIO(data))
    Image.OPEN.update(registered)
    with pytest.raises(pillows_error):
        Image.open(io.BytesIO(data))


def test_pillow_open_refuses_a_broken_file_in_the_sandbox(
        registered: dict[str, Any]) -> None:
    data = CORPUS["png-2-8"]
    with Image.open(io.BytesIO(data[:-60])) as image, pytest.raises(si.ImageError) as info:
        image.load()
    assert isinstance(info.value, OSError) and isinstance(info.value, SandboxError)


def test_open_refuses_what_it_does_not_decode(backend: str) -> None:
    with pytest.raises(si.NotAnImageError) as info:
        si.open(b"not an image at all", backend=backend)
    assert isinstance(info.value, UnidentifiedImageError)
    assert isinstance(info.value, SandboxError)
    with pytest.raises(si.NotAnImageError):
        si.open(CORPUS["gif"], backend=backend, formats=["PNG"])
    assert si.open(CORPUS["gif"], backend=backend, formats=["png", "gif"]).format == "GIF"
    with pytest.raises(ValueError, match="JPEG2000"):
        si.open(CORPUS["gif"], formats=["JPEG2000"])


def ihdr(width: int, height: int) -> bytes:
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))


def gif_screen(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)


def riff(chunks: bytes) -> bytes:
    """A WebP file of ``chunks``."""
    return b"RIFF" + struct.pack("<I", len(chunks) + 4) + b"WEBP" + chunks


# name -> (hostile file, what decoding it raises)
HOSTILE: dict[str, tuple[bytes, type[BaseException]]] = {
    "png-truncated-idat": (CORPUS["png-2-8"][:-40], si.ImageError),
    "png-truncated-header": (CORPUS["png-2-8"][:20], si.NotAnImageError),
    "png-bad-ihdr-crc": (CORPUS["png-2-8"][:29] + b"\0\0\0\0" + CORPUS["png-2-8"][33:],
                         si.NotAnImageError),
    "png-bad-idat-crc": (CORPUS["png-2-8"][:-13] + b"\xee" + CORPUS["png-2-8"][-12:],
                         si.ImageError),
    "png-corrupt-idat": (png(64, 64, 2, 8)[:60] + b"\xff" * 40 + png(64, 64, 2, 8)[100:],
                         si.ImageError),
    "png-no-idat": (ihdr(10, 10) + chunk(b"IEND", b""), si.ImageError),
    "png-zero-width": (ihdr(0, 10) + chunk(b"IEND", b""), si.NotAnImageError),
    "png-huge": (ihdr(1 << 30, 1 << 30) + chunk(b"IEND", b""), si.NotAnImageError),
    "png-bomb": (ihdr(50_000, 50_000) + chunk(b"IDAT", zlib.compress(b"")),
                 Image.DecompressionBombError),
    "gif-truncated": (CORPUS["gif"][:200], si.ImageError),
    "gif-no-image": (gif_screen(10, 10) + b";", si.NotAnImageError),
    "jpeg-truncated": (CORPUS["jpeg"][:len(CORPUS["jpeg"]) // 2], si.ImageError),
    "jpeg-header-only": (CORPUS["jpeg"][:300], si.ImageError),
    "jpeg-no-frame": (b"\xff\xd8\xff\xd9", si.NotAnImageError),
    "jpeg-bomb": (CORPUS["jpeg"].replace(b"\xff\xc0\x00\x11\x08\x00\x2f\x00\x3d",
                                         b"\xff\xc0\x00\x11\x08\xff\xdc\xff\xdc"),
                  Image.DecompressionBombError),
    "jpeg-progressive-truncated": (CORPUS["jpeg-progressive"][:-700], si.ImageError),
    "webp-truncated": (CORPUS["webp"][:len(CORPUS["webp"]) // 2], si.ImageError),
    "webp-lossless-truncated": (CORPUS["webp-lossless"][:-300], si.ImageError),
    # a still image whose canvas (VP8X) is wider than its frame
    "webp-canvas-wider": (CORPUS["webp-alpha"][:24] + b"\x3d"
                          + CORPUS["webp-alpha"][25:], si.ImageError),
    "webp-broken-header": (CORPUS["webp"][:20] + b"\0" * 20, si.NotAnImageError),
    "webp-corrupt-lossless": (CORPUS["webp-lossless"][:40] + bytes(range(256)) * 4,
                              si.ImageError),
    "webp-bomb": (riff(b"VP8X\x0a\0\0\0\x02\0\0\0" + b"\x1f\x4e\0" * 2  # 20000x20000
                       + CORPUS["webp-animated"][30:]), Image.DecompressionBombError),
    "gif-bomb": (gif_screen(65535, 65535) + b",\0\0\0\0\xff\xff\xff\xff\0\x08\0;",
                 Image.DecompressionBombError),
}


GIF_FRAMES = ANIMATIONS["gif-palettes-disposal"]
WEBP_FRAMES = ANIMATIONS["webp-animated-lossless"]
SECOND_ANMF = WEBP_FRAMES.index(b"ANMF", WEBP_FRAMES.index(b"ANMF") + 4)
APNG_FRAMES = ANIMATIONS["apng-rgba"]  # fcTL 1 and fdAT 0 are the second frame's
# name -> (an animation whose first frame is sound and a later one hostile, what
# decoding the frames raises)
HOSTILE_FRAMES: dict[str, tuple[bytes, type[BaseException]]] = {
    "gif-later-frame-truncated": (GIF_FRAMES[:len(GIF_FRAMES) * 9 // 10], si.ImageError),
    # broken off in a descriptor (Pillow's own plugin: IndexError)
    "gif-blocks-broken-off": (GIF_FRAMES[:len(GIF_FRAMES) * 7 // 10], si.ImageError),
    # a second frame whose rectangle says 65535x65535 (so does the screen it grows)
    "gif-later-frame-bomb": (gif((4, 4), (0, 0, 4, 4))[:-1] + b","
                             + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\2\1\4\0;",
                             Image.DecompressionBombError),
    # a second frame 0 pixels wide (Pillow's own plugin: ValueError)
    "gif-later-frame-empty": (gif((4, 4), (0, 0, 4, 4))[:-1] + b","
                              + struct.pack("<HHHHB", 1, 1, 0, 3, 0) + b"\2\1\4\0;",
                              si.ImageError),
    "webp-later-frame-corrupt": (garbled(WEBP_FRAMES, (SECOND_ANMF + 60) / len(WEBP_FRAMES),
                                         200), si.ImageError),
    "apng-later-frame-truncated": (APNG_FRAMES[:len(APNG_FRAMES) * 9 // 10], si.ImageError),
    "apng-later-frame-past-canvas": (rechunked(APNG_FRAMES, b"fcTL", 1, lambda s: s[:12]
                                               + struct.pack(">I", 50) + s[16:]),
                                     si.ImageError),
    "apng-later-frame-wider-than-canvas": (rechunked(APNG_FRAMES, b"fcTL", 1, lambda s: s[:4]
                                                     + struct.pack(">I", 0xFFFF_FFF0)
                                                     + s[8:]), si.ImageError),
    "apng-later-frame-empty": (rechunked(APNG_FRAMES, b"fcTL", 1, lambda s: s[:4]
                                         + struct.pack(">I", 0) + s[8:]), si.ImageError),
    "apng-frames-out-of-sequence": (rechunked(APNG_FRAMES, b"fcTL", 1, lambda s: b"\0\0\0\7"
                                              + s[4:]), si.ImageError),
    "apng-fdat-broken-off": (rechunked(APNG_FRAMES, b"fdAT", 0, lambda s: s[:2]),
                             si.ImageError),
    "apng-fdat-data-cut": (rechunked(APNG_FRAMES, b"fdAT", 0, lambda s: s[:len(s) // 2]),
                           si.ImageError),
    "apng-fdat-garbled": (rechunked(APNG_FRAMES, b"fdAT", 0, lambda s: s[:6]
                                    + bytes(range(256)) + s[262:]), si.ImageError),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FRAMES))
def test_hostile_later_frames_end_in_clean_exceptions(name: str,
                                                      registered: dict[str, Any]) -> None:
    """The first frame decodes as Pillow's; going through the frames ends in the
    exception, no frame of a size other than the image's before it."""
    data, raised = HOSTILE_FRAMES[name]
    with Image.open(io.BytesIO(data)) as image:
        first = image.copy()
        with pytest.raises(raised):
            for frame in ImageSequence.Iterator(image):
                frame.load()
                assert frame.im.size == frame.size
    Image.OPEN.update(registered)
    assert_as_pillow(first, data)


@pytest.mark.parametrize("color, depth, extra", [
    (3, 4, chunk(b"tRNS", bytes(range(0, 256, 16)))), (6, 16, b""), (0, 2, b""),
    (2, 8, chunk(b"tRNS", b"\0\1\0\2\0\3"))])
def test_an_interlaced_apngs_frames_are_those_of_its_twin(
        color: int, depth: int, extra: bytes, registered: dict[str, Any]) -> None:
    """Pillow 13 decodes no later frame of an interlaced APNG (its reader adds its
    interlace flag to its decoder's arguments at every load: ``TypeError``; added once,
    a frame at an offset comes out scrambled): every frame is Pillow's of the same APNG
    not interlaced, on both sides of a blend."""
    def through(data: bytes) -> list[Any]:
        with Image.open(io.BytesIO(data)) as image:
            return [(frame.mode, frame.size, frame.copy().tobytes(), frame.getpalette(),
                     {k: v for k, v in frame.info.items() if k != "interlace"})
                    for frame in ImageSequence.Iterator(image)]

    sandboxed = through(apng(color, depth, extra, interlace=True))
    Image.OPEN.update(registered)
    with pytest.raises(TypeError):
        through(apng(color, depth, extra, interlace=True))
    assert sandboxed == through(apng(color, depth, extra, interlace=False))
    assert len(sandboxed) == 2


@pytest.mark.parametrize("count", [0, 1, 9])
def test_an_apng_frame_count_that_lies_gives_pillows_frames(
        count: int, registered: dict[str, Any]) -> None:
    """acTL's frame count told 0 (Pillow: a still image, with a warning), fewer or more
    than the frames there are (Pillow: ``OSError`` past the last): the frames are
    Pillow's, as many, then ``ImageError`` where Pillow raises."""
    data = rechunked(APNG_FRAMES, b"acTL", 0, lambda s: struct.pack(">I", count) + s[4:])

    def through() -> tuple[Any, ...]:
        frames: list[bytes] = []
        with warnings.catch_warnings(record=True) as warned, \
                Image.open(io.BytesIO(data)) as image:
            warnings.simplefilter("always")
            n_frames: int = getattr(image, "n_frames")
            try:
                frames.extend(frame.copy().tobytes() for frame in ImageSequence.Iterator(image))
            except OSError as error:
                return n_frames, frames, [str(w.message) for w in warned], type(error)
        return n_frames, frames, [str(w.message) for w in warned], None

    sandboxed = through()
    Image.OPEN.update(registered)
    pillows = through()
    assert sandboxed[:3] == pillows[:3]
    assert len(sandboxed[1]) == {0: 1, 1: 1, 9: 4}[count]
    assert (sandboxed[3], pillows[3]) == ((si.ImageError, OSError) if count == 9
                                          else (None, None))


def test_a_huge_apng_is_refused_as_pillow_refuses(registered: dict[str, Any]) -> None:
    data = (ihdr(50_000, 50_000) + chunk(b"acTL", struct.pack(">II", 2, 0))
            + fctl(0, 50_000, 50_000) + chunk(b"IDAT", zlib.compress(b"")) + fctl(1, 1, 1)
            + chunk(b"fdAT", b"\0\0\0\2" + zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b""))
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))
    Image.OPEN.update(registered)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_end_in_clean_exceptions(name: str, backend: str) -> None:
    data, raised = HOSTILE[name]
    with pytest.raises(raised):
        si.open(data, backend=backend)
    assert_as_pillow(si.open(CORPUS["png-6-8"], backend=backend), CORPUS["png-6-8"])


def test_the_pixel_bound_is_pillows_rule_by_default(backend: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = png(40, 30, 0, 8)  # 1200 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.warns(Image.DecompressionBombWarning):
        assert si.open(data, backend=backend).size == (40, 30)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    with pytest.raises(Image.DecompressionBombError):
        si.open(data, backend=backend)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert si.open(data, backend=backend).size == (40, 30)
    with pytest.raises(Image.DecompressionBombError, match="max_pixels=1199"):
        si.open(data, backend=backend, max_pixels=1199)
    assert si.open(data, backend=backend, max_pixels=1200).size == (40, 30)


def zeros_png(width: int = 4000, height: int = 4000) -> bytes:
    """A grey PNG of zeros (a few KB for 16 Mpx of inflate)."""
    raw = zlib.compress(b"\0" * ((width + 1) * height), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                              0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def test_a_bomb_within_the_bound_decodes_within_the_memory_limit(backend: str) -> None:
    """A 4000x4000 PNG of zeros: the sandbox has room for exactly the pixels the bound
    allows, and decodes it; its decoding stops at a time limit far below what it
    needs."""
    data = zeros_png()
    assert len(data) < 20_000
    image = si.open(data, backend=backend, max_pixels=16_000_000)
    assert image.size == (4000, 4000) and image.getextrema() == (0, 0)
    with pytest.raises(ResourceError, match="time limit"):
        si.open(data, backend=backend, max_pixels=16_000_000, timeout=1e-4)


def test_the_native_build_decodes_image_after_image() -> None:
    """The native backend's build (the benchmarks' baseline) keeps its globals between
    images: each header starts from a clean state."""
    for name in ("png-2-8", "png-3-4-interlaced", "gif-transparency", "gif", "png-6-16",
                 "jpeg", "jpeg-cmyk", "webp-animated", "webp"):
        assert_as_pillow(si.open(CORPUS[name], backend="native"), CORPUS[name])


PREFIXES = [b"", b"JFIF\0", b"Exif\0\0", b"Exif\0\0MM\0*", b"Exif\0\0II*\0",
            b"ICC_PROFILE\0", b"Adobe", b"NETSCAPE2.0", b"XML:com.adobe.xmp\0",
            _metadata.XMP_NAMESPACE]
RECORD = st.tuples(st.sampled_from([0xE0, 0xE1, 0xE2, 0xEE, 0xFE, 0xC2, 0xF9, 0xFF, 0x74,
                                    0x69, 0]),
                   st.sampled_from(PREFIXES), st.binary(max_size=60))


@pytest.mark.quick
@given(fmt=st.sampled_from(sorted(_metadata.READERS)), data=st.binary(max_size=40),
       records=st.lists(RECORD, max_size=6), cut=st.integers(0, 8),
       blobs=st.dictionaries(st.integers(2, 6), st.binary(max_size=40)))
def test_any_metadata_a_decoder_returns_is_read_without_error(
        fmt: str, data: bytes, records: list[tuple[int, bytes, bytes]], cut: int,
        blobs: dict[int, bytes]) -> None:
    """What a (hostile) decoder says of the metadata is data: records garbled or broken
    off, short or odd blobs give fewer or odd keys, never an exception (nor a crash)."""
    listed = b"".join(bytes([kind]) + len(head + tail).to_bytes(4, "big") + head + tail
                      for kind, head, tail in records)
    blobs[_metadata.RECORDS] = listed[:len(listed) - cut]
    info = _metadata.READERS[fmt](blobs.get, data)
    assert isinstance(info, dict)


@pytest.mark.quick
def test_a_record_broken_off_ends_the_list() -> None:
    whole = bytes([0xFE, 0, 0, 0, 2]) + b"hi"
    assert list(_metadata._records(whole + whole[:6])) == [(0xFE, b"hi")]
