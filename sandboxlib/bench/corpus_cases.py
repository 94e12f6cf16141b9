"""The corpus libraries' workloads (``corpus``), each one call sequence of real work on
inputs made here, deterministically: bzip2 and xz decompress 1 MiB, pcre2 scans 1 MiB
of text, jansson parses and dumps a 1 MiB document, giflib decodes a 1024×768 GIF
(Pillow writes it), Lua runs a CPU-bound script."""

from __future__ import annotations

import bz2
import functools
import io
import json
import lzma
import random
from contextlib import ExitStack
from typing import Any

from .. import Limits
from .payloads import SIZE, text_like
from .plugins import Case, Op
from .corpus_libs import (bz_decompress, gif_slurped, json_dump, json_load, lua_run, package,
                          pcre2_search, plain, xz_decode)

# the sandboxes' limits: room for 1 MiB in and out and the libraries' own tables
LIMITS = Limits(memory_bytes=256 << 20)


@functools.cache
def text() -> bytes:
    return text_like(SIZE, seed=30)


def opened(name: str, backend: str, stack: ExitStack) -> Any:
    """Library ``name`` of the corpus in a sandbox on ``backend``, closed by ``stack``."""
    limits = None if backend == "native" else LIMITS
    return stack.enter_context(package(name).sandbox(backend, limits=limits))


def bzip2(backend: str, stack: ExitStack) -> Op:
    lib, packed = opened("bzip2", backend, stack), bz2.compress(text(), 9)
    return lambda: bz_decompress(lib, packed, SIZE)


def xz(backend: str, stack: ExitStack) -> Op:
    lib, packed = opened("xz", backend, stack), lzma.compress(text(), preset=6)
    return lambda: xz_decode(lib, packed, SIZE)


# no match until the planted one at the end: every position of the text is tried
PATTERN = rb"(\w+)@(\w+)\.(\d{3})\b"


def pcre2(backend: str, stack: ExitStack) -> Op:
    lib, subject = opened("pcre2", backend, stack), text() + b" someone@example.123 "
    return lambda: pcre2_search(lib, PATTERN, subject)


@functools.cache
def document(size: int = SIZE, seed: int = 30) -> bytes:
    """A JSON array of records (strings, integers, reals, nesting), about ``size`` bytes."""
    rng = random.Random(seed)
    records: list[object] = []
    total = 0
    while total < size:
        i = len(records)
        record = {"id": i, "name": f"item {i}", "price": round(rng.random() * 100, 2),
                  "tags": [rng.choice(["red", "green", "blue", "x\u00e9"]) for _ in range(3)],
                  "stock": {"here": rng.randrange(50), "there": None, "ok": i % 2 == 0}}
        records.append(record)
        total += len(json.dumps(record)) + 2
    return json.dumps(records).encode()


def jansson(backend: str, stack: ExitStack) -> Op:
    lib, doc = opened("jansson", backend, stack), document()

    def run() -> bytes:
        value = json_load(lib, doc)
        try:
            return json_dump(lib, value, 0)
        finally:
            lib.json_delete(value)
    return run


@functools.cache
def gif(width: int = 1024, height: int = 768) -> bytes:
    """A 256-colour GIF of bands (121 KB: LZW packs it 6.5×). giflib reads it through
    the callback in 255-byte blocks, whose crossings are half of native's time."""
    from PIL import Image
    pixels = bytes((x // 16 + y // 16 + (x * y >> 15)) % 256
                   for y in range(height) for x in range(width))
    image = Image.frombytes("P", (width, height), pixels)
    image.putpalette([c for i in range(256) for c in (i, 255 - i, (i * 7) % 256)])
    out = io.BytesIO()
    image.save(out, "GIF")
    return out.getvalue()


def giflib(backend: str, stack: ExitStack) -> Op:
    lib, data = opened("giflib", backend, stack), gif()
    G = package("giflib")

    def raster(gif: Any) -> bytes:
        image = lib.view(G.SavedImage, gif.SavedImages)
        return bytes(plain(image.RasterBits.copy_bytes(1024 * 768)))
    return lambda: gif_slurped(lib, data, raster)


SCRIPT = """
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 60000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
local parts = {}
for i = 1, 20000 do parts[#parts + 1] = string.format("%d:%s", i, ("x"):rep(i % 7)) end
local s = table.concat(parts, ",")
local n = 0
for w in s:gmatch("%d+") do n = n + #w end
return fib(22) + t[100] + n + #s
"""


def lua(backend: str, stack: ExitStack) -> Op:
    lib = opened("lua", backend, stack)
    L = lib.luaL_newstate()
    stack.callback(lib.lua_close, L)
    lib.luaL_openlibs(L)
    return lambda: lua_run(lib, L, SCRIPT)


CASES = [
    Case("bzip2_decompress_1mib", "bzip2 1.0.8: BZ2_bzBuffToBuffDecompress, 1 MiB of text "
         "(compressed by Python's bz2 at level 9)", bzip2),
    Case("xz_decompress_1mib", "liblzma 5.8.1: lzma_stream_buffer_decode, 1 MiB of text "
         "(preset 6)", xz),
    Case("pcre2_scan_1mib", f"pcre2 10.42: pcre2_compile + pcre2_match of {PATTERN.decode()} "
         "over 1 MiB of text, matching only at its end (no JIT)", pcre2),
    Case("jansson_parse_dump_1mib", "jansson 2.14: json_loadb + json_dumps of a 1 MiB array of "
         "records", jansson),
    Case("giflib_decode_1024x768", "giflib 5.2.1: DGifOpen (reading through a callback) + "
         "DGifSlurp of a 256-colour 1024×768 GIF", giflib),
    Case("lua_script", "Lua 5.4: a CPU-bound script (recursion, table.sort of 60k numbers, "
         "string.format/concat/gmatch)", lua),
]
