"""sandboxlib.wrapped.stb_image: real stb_image 2.27 (fetched pinned) decoding PNGs made
here and JPEGs made by stb_image_write, on every backend; hostile files end in
ImageError, never in the host."""

from __future__ import annotations

import struct
import zlib

import pytest

from sandboxlib import Limits
from sandboxlib.wrapped import stb_image as stb
from sandboxlib.wrapped.stb_image.bench import sample_jpeg as make_jpeg

BACKENDS = ["wasmtime", "wasm2c", "native"]


def png(width: int, height: int, channels: int, pixels: bytes) -> bytes:
    """A PNG of 8-bit ``pixels`` (rows top to bottom), no filtering."""
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    row = width * channels
    raw = b"".join(b"\0" + pixels[y * row:(y + 1) * row] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                                             color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


RGB = bytes((x * 7 + y * 3 + c * 50) % 256 for y in range(20) for x in range(30) for c in range(3))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_png_decodes_to_its_pixels(backend: str) -> None:
    image = png(30, 20, 3, RGB)
    assert stb.info(image, backend=backend) == (30, 20, 3)
    assert stb.decode(image, backend=backend) == stb.Image(30, 20, 3, RGB)
    rgba = stb.decode(image, 4, backend=backend)
    assert rgba.channels == 4 and rgba.pixels[3::4] == b"\xff" * 600
    assert rgba.pixels[0::4] == RGB[0::3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_jpeg_decodes_as_the_native_build_decodes_it(backend: str) -> None:
    jpeg = make_jpeg(64, 48)
    assert stb.info(jpeg, backend=backend) == (64, 48, 3)
    assert stb.decode(jpeg, backend=backend) == stb.decode(jpeg, backend="native")


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c"])
@pytest.mark.parametrize("data", [b"", b"not an image at all", png(30, 20, 3, RGB)[:60],
                                  b"\x89PNG\r\n\x1a\n" + b"\xff" * 64, make_jpeg(64, 48)[:300]],
                         ids=["empty", "text", "truncated-png", "garbage-png", "truncated-jpeg"])
def test_bad_files_are_image_errors(backend: str, data: bytes) -> None:
    with pytest.raises(stb.ImageError, match="cannot decode the image: "):
        stb.decode(data, backend=backend)


@pytest.mark.parametrize("backend", ["wasmtime", "wasm2c"])
def test_an_image_too_large_for_the_sandbox_is_an_error_not_a_host_allocation(
        backend: str) -> None:
    zeros = png(2048, 2048, 4, bytes(2048 * 2048 * 4))  # 16 MiB of pixels in ~16 KiB
    with pytest.raises(stb.ImageError, match="cannot decode the image"):
        stb.decode(zeros, backend=backend, limits=Limits(memory_bytes=8 << 20))
    with pytest.raises(stb.ImageError, match="more than max_pixels"):
        stb.decode(png(30, 20, 3, RGB), backend=backend, max_pixels=599)


def test_channels_are_checked() -> None:
    with pytest.raises(ValueError, match="channels"):
        stb.decode(png(30, 20, 3, RGB), 5)
