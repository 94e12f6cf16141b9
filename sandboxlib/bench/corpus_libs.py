"""The real-library corpus (c_src/corpus/ of a source checkout): each spec's package,
generated once per process, and each library's C call sequence, as a function of an open
proxy that returns plain values or raises ``LibraryError`` with the library's own code
and message. tests/test_corpus.py checks them against references; ``corpus`` times
them."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, TypeVar

from .. import Prim, SandboxError
from ..codegen.packages import load_generated

TRUSTED = "the caller compares it with a reference"
CORPUS_ENV = "SANDBOXLIB_CORPUS"
T = TypeVar("T")


def corpus_dir() -> Path:
    """The folder of the corpus specs: ``$SANDBOXLIB_CORPUS``, else ``c_src/corpus`` of
    the checkout this package runs from; SandboxError if neither exists (an installed
    wheel carries no corpus)."""
    where = os.environ.get(CORPUS_ENV) or str(Path(__file__).parents[2] / "c_src" / "corpus")
    if not Path(where, "bzip2", "bzip2.toml").is_file():
        raise SandboxError(f"the corpus specs are not in {where}: the corpus needs a source "
                           f"checkout of sandboxlib (c_src/corpus/) or ${CORPUS_ENV} naming "
                           "that folder, and the [wrap] extra to build")
    return Path(where)


class LibraryError(SandboxError):
    """A corpus library reported an error (its code, and its message if it has one)."""

    def __init__(self, library: str, code: int, message: str = "") -> None:
        super().__init__(f"{library}: error {code}" + (f": {message}" if message else ""))
        self.code = code
        self.message = message


@functools.cache
def package(name: str) -> ModuleType:
    """The package generated from ``c_src/corpus/NAME/NAME.toml`` (cached on disk too)."""
    return load_generated(corpus_dir() / name / f"{name}.toml")


def plain(value: Any) -> Any:
    return value.unverified_safe_because(TRUSTED)


def size_t_width(lib: Any) -> int:
    """The width of ``size_t`` in this sandbox (4 on wasm32, 8 natively)."""
    return int(lib.sandbox.model.size(Prim.ULONG))


# -- bzip2 ---------------------------------------------------------------------------


def bz_compress(lib: Any, data: bytes, level: int) -> bytes:
    cap = len(data) + len(data) // 100 + 600  # bzlib.h's bound for BuffToBuffCompress
    n = lib.out(Prim.UINT, initial=cap)
    with lib.alloc(cap) as out, lib.copy_in(data) as src:
        code = plain(lib.BZ2_bzBuffToBuffCompress(out, n, src, len(data), level, 0, 0))
        if code != 0:
            raise LibraryError("bzip2", code)
        return bytes(plain(out.read(plain(n.value))))


def bz_decompress(lib: Any, data: bytes, capacity: int) -> bytes:
    n = lib.out(Prim.UINT, initial=capacity)
    with lib.alloc(capacity) as out, lib.copy_in(data) as src:
        code = plain(lib.BZ2_bzBuffToBuffDecompress(out, n, src, len(data), 0, 0))
        if code != 0:
            raise LibraryError("bzip2", code)
        return bytes(plain(out.read(plain(n.value))))


# -- xz (liblzma) --------------------------------------------------------------------


def xz_encode(lib: Any, data: bytes, preset: int, check: int) -> bytes:
    cap = len(data) + len(data) // 2 + 4096
    pos = lib.out(Prim.ULONG)
    with lib.alloc(cap) as out:
        code = plain(lib.lzma_easy_buffer_encode(preset, check, None, data, len(data), out, pos,
                                                 cap))
        if code != 0:
            raise LibraryError("xz", code)
        return bytes(plain(out.read(plain(pos.value))))


def xz_decode(lib: Any, data: bytes, capacity: int, memlimit: int = 1 << 28) -> bytes:
    in_pos, out_pos = lib.out(Prim.ULONG), lib.out(Prim.ULONG)
    limit = lib.out(Prim.ULLONG, initial=memlimit)
    with lib.alloc(capacity) as out:
        code = plain(lib.lzma_stream_buffer_decode(limit, 0, None, data, in_pos, len(data),
                                                   out, out_pos, capacity))
        if code != 0:
            raise LibraryError("xz", code)
        return bytes(plain(out.read(plain(out_pos.value))))


# -- pcre2 ---------------------------------------------------------------------------


class PatternError(LibraryError):
    """pcre2_compile's error: its code, message and the offset in the pattern."""

    def __init__(self, code: int, message: str, offset: int) -> None:
        super().__init__("pcre2", code, f"{message} at offset {offset}")
        self.message = message
        self.offset = offset


def pcre2_message(lib: Any, code: int) -> str:
    buf = lib.alloc(256)
    n = plain(lib.pcre2_get_error_message_8(code, buf, 256))
    return bytes(plain(buf.read(max(n, 0)))).decode()


def pcre2_search(lib: Any, pattern: bytes, subject: bytes,
                 options: int = 0) -> list[tuple[int, int]] | None:
    """The spans of the first match and of each group ((-1, -1) for an unset group), or
    None for no match: what ``re.search(...).span(i)`` gives."""
    err, offset = lib.out(Prim.INT), lib.out(Prim.ULONG)
    code = lib.pcre2_compile_8(pattern, len(pattern), options, err, offset, None)
    if code.is_null():
        number = plain(err.value)
        raise PatternError(number, pcre2_message(lib, number), plain(offset.value))
    md = lib.pcre2_match_data_create_from_pattern_8(code, None)
    try:
        rc = plain(lib.pcre2_match_8(code, subject, len(subject), 0, 0, md, None))
        if rc == package("pcre2").PCRE2_ERROR_NOMATCH:
            return None
        if rc < 0:
            raise LibraryError("pcre2", rc, pcre2_message(lib, rc))
        pairs, width = plain(lib.pcre2_get_ovector_count_8(md)), size_t_width(lib)
        raw = plain(lib.pcre2_get_ovector_pointer_8(md).copy_bytes(2 * pairs * width))
        values = [int.from_bytes(raw[i:i + width], "little") for i in range(0, len(raw), width)]
        unset = (1 << 8 * width) - 1  # PCRE2_UNSET, ~(size_t)0
        return [(-1, -1) if a == unset or i >= rc else (a, b)
                for i, (a, b) in enumerate(zip(values[::2], values[1::2]))]
    finally:
        lib.pcre2_match_data_free_8(md)
        lib.pcre2_code_free_8(code)


# -- jansson -------------------------------------------------------------------------


def json_load(lib: Any, text: bytes, flags: int = 0) -> Any:
    """json_loadb's ``json_t *``, or JSONError with jansson's message, line and column."""
    J = package("jansson")
    error, mem = lib.new(J.json_error_t)
    with mem:
        value = lib.json_loadb(text, len(text), flags | J.JSON_DECODE_ANY, error)
        if value.is_null():
            message = bytes(plain(error.text)).split(b"\0", 1)[0].decode()
            raise JSONError(message, plain(error.line), plain(error.column),
                            plain(error.position))
    return value


class JSONError(LibraryError):
    """jansson's parse error: its message and where (line and column from 1; position
    the byte offset)."""

    def __init__(self, message: str, line: int, column: int, position: int) -> None:
        super().__init__("jansson", line, f"{message} near line {line} column {column}")
        self.message, self.line, self.column, self.position = message, line, column, position


def json_dump(lib: Any, value: Any, flags: int) -> bytes:
    text = lib.helpers.json_dumps(value, flags | package("jansson").JSON_ENCODE_ANY)
    return bytes(plain(text))


# -- giflib --------------------------------------------------------------------------


@dataclass(frozen=True)
class Gif:
    """A decoded GIF: the screen size, the frame count, the first frame's size and
    its pixels as RGB (through the frame's colour map, else the global one)."""

    width: int
    height: int
    frames: int
    frame_size: tuple[int, int]
    rgb: bytes


def gif_decode(lib: Any, data: bytes) -> Gif:
    """DGifOpen with a read callback serving ``data``, then DGifSlurp: the first frame."""
    return gif_slurped(lib, data, lambda gif: _first_frame(lib, gif))


def gif_slurped(lib: Any, data: bytes, read: Callable[[Any], T]) -> T:
    """``read`` of the ``GifFileType`` view DGifSlurp filled (DGifOpen reading ``data``
    through a callback), before DGifCloseFile."""
    G = package("giflib")
    position = 0

    def serve(gif: Any, buf: Any, n: Any) -> int:
        nonlocal position
        chunk = data[position:position + n.verify_range(0, len(data))]
        position += len(chunk)
        lib.sandbox.memory.write(buf.unverified_safe_because("memory.write checks bounds"),
                                 chunk)
        return len(chunk)

    error = lib.out(Prim.INT)
    gif = lib.DGifOpen(None, lib.callback(serve, G.InputFunc), error)
    if gif.is_null():
        raise _gif_error(lib, plain(error.value))
    try:
        if plain(lib.DGifSlurp(gif)) != G.GIF_OK:
            raise _gif_error(lib, plain(lib.view(G.GifFileType, gif).Error))
        return read(lib.view(G.GifFileType, gif))
    finally:
        lib.DGifCloseFile(gif, None)


def _gif_error(lib: Any, code: int) -> LibraryError:
    text = lib.GifErrorString(code)
    return LibraryError("giflib", code, "" if text.is_null() else
                        bytes(plain(text.copy_string(200))).decode())


def _first_frame(lib: Any, gif: Any) -> Gif:
    G = package("giflib")
    image = lib.view(G.SavedImage, gif.SavedImages)
    desc = image.ImageDesc
    w, h = plain(desc.Width), plain(desc.Height)
    cmap = lib.view(G.ColorMapObject, desc.ColorMap if not desc.ColorMap.is_null()
                    else gif.SColorMap)
    colors = bytes(plain(cmap.Colors.copy_bytes(3 * plain(cmap.ColorCount))))
    indices = bytes(plain(image.RasterBits.copy_bytes(w * h)))
    rgb = b"".join(colors[3 * i:3 * i + 3] for i in indices)
    return Gif(plain(gif.SWidth), plain(gif.SHeight), plain(gif.ImageCount), (w, h), rgb)


# -- Lua -----------------------------------------------------------------------------

LUA_OK = 0


def lua_run(lib: Any, L: Any, script: str) -> tuple[int, bytes | None]:
    """lua_pcall's status and the string (or number) it leaves on top, then an empty stack."""
    status = plain(lib.luaL_loadstring(L, script))
    if status == LUA_OK:
        status = plain(lib.lua_pcallk(L, 0, 1, 0, 0, None))
    text = lib.lua_tolstring(L, -1, lib.out(Prim.ULONG))
    value = plain(text.copy_string(max_len=1 << 12)) if plain(text) else None
    lib.lua_settop(L, 0)
    return status, value
