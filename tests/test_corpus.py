"""The real-library corpus: five C libraries as their upstream tarballs ship them (pinned
from Debian's archive, sandboxlib/toolchain/pins.py), wrapped from a spec in
c_src/corpus/NAME/ holding only what each one's own build system configures, with no
source patched, run on every backend (wasmtime, wasm2c, native) and checked against a
reference:

- bzip2 1.0.8: compresses byte-identically to Python's ``bz2`` at block sizes 1, 5 and
  9, decompresses what ``bz2`` makes, reports corrupt and truncated input;
- xz 5.8.1's liblzma (a nested source tree): decodes the .xz Python's ``lzma`` makes
  (every check), encodes what ``lzma`` decodes, reports corrupt input and its memory
  limit;
- pcre2 10.42 (8-bit, config.h): the match and group offsets of a table of patterns
  are ``re``'s where the two agree, and a bad pattern is pcre2's message and offset;
- jansson 2.14 (two generated config headers): parses and dumps a corpus of documents
  as ``json`` reads them, builds values, reports malformed JSON with line and column;
- giflib 5.2.1: decodes GIFs Pillow writes to Pillow's pixels, reading through a
  callback (``DGifOpen``), and reports truncated and foreign input.

Each package is generated once per session (and cached by content on disk); a sandbox
is opened per test. Every library runs on all three backends.
"""

from __future__ import annotations

import bz2
import io
import json
import lzma
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ALL_BACKENDS

from sandboxlib.backends import BACKENDS
from sandboxlib.bench.corpus_libs import (Gif, JSONError, LibraryError, PatternError,
                                          bz_compress, bz_decompress, gif_decode, json_dump,
                                          json_load, package, pcre2_search, plain, xz_decode,
                                          xz_encode)

BACKENDS_HERE = [b for b in ALL_BACKENDS if b in BACKENDS]


def corpus_library(name: str) -> Any:
    """A fixture: the library ``name`` opened on each backend in turn."""
    @pytest.fixture(params=BACKENDS_HERE, name=name)
    def opened(request: pytest.FixtureRequest) -> Iterator[Any]:
        with package(name).sandbox(request.param) as lib:
            yield lib
    return opened


bzip2, xz, pcre2, jansson, giflib = map(corpus_library, ["bzip2", "xz", "pcre2", "jansson",
                                                          "giflib"])


def sample_data(size: int, seed: int = 26) -> bytes:
    """Text, runs and noise: what exercises a compressor's every path."""
    rng = random.Random(seed)
    words = [b"sandbox", b"wasm", b"corpus", b"tainted", b"pointer", b"\x00\x01", b"zz"]
    parts: list[bytes] = []
    while sum(map(len, parts)) < size:
        kind = rng.randrange(3)
        parts.append(b" ".join(rng.choices(words, k=rng.randrange(1, 40))) if kind == 0
                     else bytes([rng.randrange(256)]) * rng.randrange(1, 300) if kind == 1
                     else rng.randbytes(rng.randrange(1, 200)))
    return b"".join(parts)[:size]


DATA = sample_data(300_000)


# -- bzip2 vs bz2 --------------------------------------------------------------------


@pytest.mark.parametrize("level", [1, 5, 9])
def test_bzip2_compresses_byte_identically(bzip2: Any, level: int) -> None:
    assert bz_compress(bzip2, DATA, level) == bz2.compress(DATA, level)


def test_bzip2_decompresses_what_bz2_makes(bzip2: Any) -> None:
    for data in (DATA, b"", b"x", sample_data(5000, seed=1)):
        assert bz_decompress(bzip2, bz2.compress(data, 9), len(data) + 1) == data


def test_bzip2_reports_corrupt_input(bzip2: Any) -> None:
    packed = bz2.compress(DATA, 9)
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0x55
    cases = [(bytes(flipped), -4),             # BZ_DATA_ERROR (the block's CRC)
             (b"BZh9not bzip2 at all", -4),    # BZ_DATA_ERROR
             (b"GIF89a", -5),                  # BZ_DATA_ERROR_MAGIC
             (packed[:len(packed) // 2], -7)]  # BZ_UNEXPECTED_EOF
    for data, code in cases:
        with pytest.raises(LibraryError) as info:
            bz_decompress(bzip2, data, 2 * len(DATA))
        assert info.value.code == code
    with pytest.raises(LibraryError) as info:  # BZ_OUTBUFF_FULL: the output does not fit
        bz_decompress(bzip2, packed, len(DATA) - 1)
    assert info.value.code == -8
    assert bz_decompress(bzip2, packed, len(DATA)) == DATA  # the sandbox is still good


# -- xz (liblzma) vs lzma ------------------------------------------------------------


@pytest.mark.parametrize("check", [lzma.CHECK_NONE, lzma.CHECK_CRC32, lzma.CHECK_CRC64,
                                   lzma.CHECK_SHA256])
def test_xz_decodes_what_lzma_makes(xz: Any, check: int) -> None:
    for data, preset in ((DATA, 6), (b"", 0), (sample_data(4000, seed=2), 9 | lzma.PRESET_EXTREME)):
        packed = lzma.compress(data, format=lzma.FORMAT_XZ, check=check, preset=preset)
        assert xz_decode(xz, packed, len(data) + 1) == data


@pytest.mark.parametrize("preset", [0, 6])
def test_xz_encodes_what_lzma_decodes(xz: Any, preset: int) -> None:
    packed = xz_encode(xz, DATA, preset, lzma.CHECK_CRC64)
    assert lzma.decompress(packed, format=lzma.FORMAT_XZ) == DATA
    assert len(packed) < len(DATA) // 2


def test_xz_reports_corrupt_input_and_its_memory_limit(xz: Any) -> None:
    X = package("xz")
    packed = lzma.compress(DATA, format=lzma.FORMAT_XZ)
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0x55
    # Truncated input is LZMA_BUF_ERROR: 5.8.1's lzma_stream_buffer_decode restores the
    # input position before it tells a truncated input from a full output buffer.
    cases = [(bytes(flipped), X.LZMA_DATA_ERROR), (b"not xz at all", X.LZMA_FORMAT_ERROR),
             (packed[:-10], X.LZMA_BUF_ERROR)]
    for data, code in cases:
        with pytest.raises(LibraryError) as info:
            xz_decode(xz, data, 2 * len(DATA))
        assert info.value.code == code
    with pytest.raises(LibraryError) as info:
        xz_decode(xz, packed, len(DATA), memlimit=1 << 16)
    assert info.value.code == X.LZMA_MEMLIMIT_ERROR
    with pytest.raises(LibraryError) as info:
        xz_decode(xz, packed, len(DATA) - 1)
    assert info.value.code == X.LZMA_BUF_ERROR
    assert xz_decode(xz, packed, len(DATA)) == DATA


# -- pcre2 vs re -----------------------------------------------------------------------

# Patterns whose meaning Python's re and PCRE2 share.
PATTERNS: list[tuple[bytes, bytes, str]] = [
    (rb"abc", b"xxabcxx", ""),
    (rb"a(b)?c", b"ac abc", ""),
    (rb"(\d+)-(\d+)", b"tel 555-1234 x", ""),
    (rb"^(\w+)\s(\w+)$", b"hello world", ""),
    (rb"(a|ab)(c|bcd)(d*)", b"abcd", ""),
    (rb"colou?r", b"The COLOR red", "i"),
    (rb"^b", b"a\nb\nc", "m"),
    (rb"a.c", b"a\nc", "s"),
    (rb"(?P<year>\d{4})-(?P<month>\d\d)", b"on 2026-12-06", ""),
    (rb"(?:x|y)+(z)", b"xyxyz", ""),
    (rb"\bfoo\b", b"foobar foo", ""),
    (rb"(a+)+b", b"aaaaaaaaaaaaaaaaaaaaac", ""),
    (rb"(?<=\$)\d+", b"cost: $42", ""),
    (rb"(\w)\1", b"abccd", ""),
    (rb"[^aeiou\s]{3,}", b"a strength test", ""),
    (rb"a{2,3}?", b"aaaa", ""),
    (rb"nomatch", b"haystack", ""),
    (rb"(a)|(b)", b"b", ""),
]
FLAGS = {"i": (re.IGNORECASE, "PCRE2_CASELESS"), "m": (re.MULTILINE, "PCRE2_MULTILINE"),
         "s": (re.DOTALL, "PCRE2_DOTALL")}


@pytest.mark.parametrize("pattern,subject,flags", PATTERNS)
def test_pcre2_matches_where_re_does(pcre2: Any, pattern: bytes, subject: bytes,
                                     flags: str) -> None:
    P = package("pcre2")
    options = sum(getattr(P, FLAGS[f][1]) for f in flags)
    found = re.search(pattern, subject, sum(FLAGS[f][0] for f in flags))
    expected = None if found is None else [found.span(i) for i in range(len(found.groups()) + 1)]
    assert pcre2_search(pcre2, pattern, subject, options) == expected


@pytest.mark.parametrize("pattern,message,offset", [
    (rb"a(b", "missing closing parenthesis", 3),
    (rb"x{2,1}", "numbers out of order in {} quantifier", 5),
    (rb"[z-a]", "range out of order in character class", 3),
    (rb"(?P<n>a)(?P<n>b)", "two named subpatterns have the same name (PCRE2_DUPNAMES not set)",
     14),
])
def test_pcre2_bad_pattern_is_its_message_and_offset(pcre2: Any, pattern: bytes, message: str,
                                                    offset: int) -> None:
    with pytest.raises(PatternError) as info:
        pcre2_search(pcre2, pattern, b"")
    assert (info.value.message, info.value.offset) == (message, offset)
    with pytest.raises(re.error):  # Python's re refuses each too
        re.compile(pattern)
    assert pcre2_search(pcre2, rb"b+", b"abbbc") == [(1, 4)]


# -- jansson vs json -------------------------------------------------------------------

DOCUMENTS = [
    '{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
    '[]', '{}', '0', '-12345678901234', '"text"', 'null', '3.25', '-0.5e-3', '1e300',
    '"unicode: \\u00e9\\u4e2d\\ud83d\\ude00 and escapes: \\" \\\\ \\/ \\b \\f \\n \\r \\t"',
    '[[[[[[[[[[1]]]]]]]]]]',
    json.dumps({f"k{i}": [i, str(i) * i, {"n": None, "f": i / 7}] for i in range(50)}),
    json.dumps([{"id": i, "tags": ["x"] * (i % 4), "ok": i % 2 == 0} for i in range(200)]),
]


@pytest.mark.parametrize("doc", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_jansson_parses_and_dumps_as_json_reads(jansson: Any, doc: str) -> None:
    J = package("jansson")
    value = json_load(jansson, doc.encode())
    dumped = json_dump(jansson, value, J.JSON_COMPACT | J.JSON_SORT_KEYS)
    expected = json.loads(doc)
    assert json.loads(dumped) == expected
    if not has_real(expected):  # jansson writes reals with %.17g, json the shortest repr
        assert dumped.decode() == json.dumps(expected, sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=False)


def has_real(value: Any) -> bool:
    if isinstance(value, dict):
        return any(map(has_real, value.values()))
    return isinstance(value, float) or isinstance(value, list) and any(map(has_real, value))


def test_jansson_builds_values(jansson: Any) -> None:
    J = package("jansson")
    obj, arr = jansson.json_object(), jansson.json_array()
    for item in (jansson.json_integer(-(2 ** 63)), jansson.json_real(0.5),
                 jansson.json_string("é\n"), jansson.json_true(), jansson.json_null()):
        assert plain(jansson.json_array_append_new(arr, item)) == 0
    assert plain(jansson.json_object_set_new(obj, "list", arr)) == 0
    assert plain(jansson.json_object_set_new(obj, "n", jansson.json_integer(7))) == 0
    dumped = json_dump(jansson, obj, J.JSON_SORT_KEYS)
    assert json.loads(dumped) == {"list": [-(2 ** 63), 0.5, "é\n", True, None], "n": 7}
    again = json_load(jansson, dumped)
    assert plain(jansson.json_equal(obj, again)) == 1


@pytest.mark.parametrize("doc,message,line,column", [
    ('{"a": 1,\n "b": }', "unexpected token near '}'", 2, 7),
    ('[1, 2', "']' expected near end of file", 1, 5),
    ('{"a" 1}', "':' expected near '1'", 1, 6),
    ('[1, 2]]', "end of file expected near ']'", 1, 7),
    ('\n\n  tru', "invalid token near 'tru'", 3, 5),
    ('{"k": "unterminated}', "premature end of input near '\"unterminated}'", 1, 20),
])
def test_jansson_reports_malformed_json_with_line_and_column(jansson: Any, doc: str, message: str,
                                                             line: int, column: int) -> None:
    with pytest.raises(JSONError) as info:
        json_load(jansson, doc.encode())
    assert (info.value.message, info.value.line, info.value.column) == (message, line, column)
    with pytest.raises(json.JSONDecodeError):  # json refuses each too
        json.loads(doc)


# -- giflib vs Pillow ------------------------------------------------------------------


def pillow_gif(size: tuple[int, int], colors: int, seed: int, **save: Any) -> bytes:
    """A GIF Pillow writes: a palette image of ``colors`` colours with shapes and noise."""
    from PIL import Image, ImageDraw
    rng = random.Random(seed)
    image = Image.new("P", size)
    image.putpalette([rng.randrange(256) for _ in range(3 * colors)])
    draw = ImageDraw.Draw(image)
    for _ in range(20):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse((x, y, x + rng.randrange(1, 40), y + rng.randrange(1, 40)),
                     fill=rng.randrange(colors))
    for _ in range(size[0] * size[1] // 10):
        image.putpixel((rng.randrange(size[0]), rng.randrange(size[1])), rng.randrange(colors))
    out = io.BytesIO()
    image.save(out, "GIF", **save)
    return out.getvalue()


def pillow_reads(data: bytes) -> Gif:
    from PIL import Image
    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1)
        image.seek(0)
        rgb = image.convert("RGB")
        return Gif(image.width, image.height, frames, rgb.size, rgb.tobytes())


GIFS = {
    "small": lambda: pillow_gif((1, 1), 2, 1),
    "256-colours": lambda: pillow_gif((97, 61), 256, 2),
    "16-colours": lambda: pillow_gif((200, 150), 16, 3),
    "interlaced": lambda: pillow_gif((64, 80), 64, 4, interlace=True),
    "animated": lambda: animated_gif(),
}


def animated_gif() -> bytes:
    from PIL import Image
    frames = [Image.open(io.BytesIO(pillow_gif((40, 30), 8, seed))) for seed in (5, 6, 7)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50)
    return out.getvalue()


@pytest.mark.parametrize("name", list(GIFS))
def test_giflib_decodes_to_pillows_pixels(giflib: Any, name: str) -> None:
    data = GIFS[name]()
    assert gif_decode(giflib, data) == pillow_reads(data)


def test_giflib_reports_truncated_and_foreign_input(giflib: Any) -> None:
    G = package("giflib")
    data = GIFS["16-colours"]()
    for bad, code in ((data[:len(data) // 2], G.D_GIF_ERR_READ_FAILED),
                      (b"PNG\r\n\x1a\n" + data[8:], G.D_GIF_ERR_NOT_GIF_FILE),
                      (data[:8], G.D_GIF_ERR_NO_SCRN_DSCR)):
        with pytest.raises(LibraryError) as info:
            gif_decode(giflib, bad)
        assert info.value.code == code, info.value
        assert info.value.message
    assert gif_decode(giflib, data) == pillow_reads(data)
