"""The ``info`` keys Pillow's plugins read from an image's metadata (ICC profile, Exif,
XMP, resolution, JFIF and Adobe markers, comments, GIF's version, background, duration,
loop and extension, WebP's loop and background), made
from what the sandboxed decoder found in the header (``image_metadata``, shim/image.h):
bytes copied out of the sandbox (address and length checked), interpreted here in
Python as Pillow's plugin for the format interprets the same bytes."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterator
from typing import Any

from PIL import Image, PngImagePlugin

# image_metadata's kinds (enum image_metadata)
RECORDS, ICC, EXIF, XMP, PHYS, ANIMATION = range(1, 7)
PROGRESSIVE = 0xC2  # JPEG's last record when the frame is progressive
GRAPHIC_CONTROL, COMMENT, APPLICATION = 0xF9, 0xFE, 0xFF  # GIF's extensions
TEXT, INTERNATIONAL_TEXT = 0x74, 0x69  # PNG's tEXt or zTXt, and iTXt
XMP_NAMESPACE = b"http://ns.adobe.com/xap/1.0/\x00"

Blob = Callable[[int], "bytes | None"]  # image_metadata(kind)'s bytes, copied out


def _records(raw: bytes | None) -> Iterator[tuple[int, bytes]]:
    """The records of IMAGE_RECORDS's layout (a kind byte, a 4-byte length, the data);
    a record broken off ends them."""
    at = 0
    while raw is not None and at + 5 <= len(raw):
        kind, length = raw[at], int.from_bytes(raw[at + 1:at + 5], "big")
        if at + 5 + length > len(raw):
            return
        yield kind, raw[at + 5:at + 5 + length]
        at += 5 + length


def _jpeg(blob: Blob, data: bytes) -> dict[str, Any]:
    """JpegImagePlugin's keys: its APP and COM handlers, the ICC fragments joined in
    order of their sequence numbers, ``dpi`` from JFIF or else from the Exif."""
    info: dict[str, Any] = {}
    icc: list[bytes] = []
    for marker, s in _records(blob(RECORDS)):
        if marker == 0xE0 and s.startswith(b"JFIF") and len(s) >= 12:
            info["jfif"] = version = int.from_bytes(s[5:7], "big")
            info["jfif_version"] = divmod(version, 256)
            unit, density = s[7], (int.from_bytes(s[8:10], "big"),
                                   int.from_bytes(s[10:12], "big"))
            if unit == 1:
                info["dpi"] = density
            elif unit == 2:  # per cm
                info["dpi"] = tuple(d * 2.54 for d in density)
            info["jfif_unit"], info["jfif_density"] = unit, density
        elif marker == 0xE1 and s.startswith(b"Exif\0\0"):
            info["exif"] = info["exif"] + s[6:] if "exif" in info else s
        elif marker == 0xE1 and s.startswith(XMP_NAMESPACE):
            info["xmp"] = s[len(XMP_NAMESPACE):]
        elif marker == 0xE2 and s.startswith(b"ICC_PROFILE\0") and len(s) >= 14:
            icc.append(s)
        elif marker == 0xEE and s.startswith(b"Adobe") and len(s) >= 7:
            info["adobe"] = int.from_bytes(s[5:7], "big")
            if len(s) > 11:
                info["adobe_transform"] = s[11]
        elif marker == 0xFE:
            info["comment"] = s
        elif marker == PROGRESSIVE:
            info["progressive"] = info["progression"] = 1
    if icc:
        icc.sort()
        info["icc_profile"] = b"".join(p[14:] for p in icc) if icc[0][13] == len(icc) else None
    if "dpi" not in info and "exif" in info:
        info["dpi"] = _exif_dpi(info["exif"])
    return info


def _exif_dpi(exif: bytes) -> tuple[float, float]:
    """The resolution an Exif block gives, read by Pillow's Exif parser (Python); 72
    when it has none or a broken one, as Pillow's JPEG plugin does."""
    try:
        tags = Image.Exif()
        tags.load(exif)
        unit, resolution = tags[0x0128], tags[0x011A]
        try:
            dpi = float(resolution[0]) / resolution[1]
        except TypeError:
            dpi = resolution
        if math.isnan(dpi):
            raise ValueError("the resolution is not a number")
        if unit == 3:  # per cm
            dpi *= 2.54
        return dpi, dpi
    except (struct.error, KeyError, SyntaxError, TypeError, ValueError, ZeroDivisionError):
        return 72, 72


def _png(blob: Blob, data: bytes) -> dict[str, Any]:
    """PngImagePlugin's keys of IHDR's interlace method (at its fixed place in the file,
    which libpng has checked), the text chunks, iCCP (libpng inflates it), eXIf and
    pHYs."""
    info: dict[str, Any] = {"interlace": 1} if len(data) > 28 and data[28] else {}
    for kind, s in _records(blob(RECORDS)):
        key, _, text = s.partition(b"\0")
        if kind == TEXT and key:
            info[key.decode("latin-1")] = text if key == b"exif" else text.decode(
                "latin-1", "replace")
        elif kind == INTERNATIONAL_TEXT and text.count(b"\0") >= 2:
            lang, translated, value = text.split(b"\0", 2)
            if key == b"XML:com.adobe.xmp":
                info["xmp"] = value
            try:
                info[key.decode("latin-1")] = PngImagePlugin.iTXt(
                    value.decode(), lang.decode(), translated.decode())
            except UnicodeDecodeError:  # Pillow leaves it out too
                pass
    if (icc := blob(ICC)) is not None:
        info["icc_profile"] = icc
    if (exif := blob(EXIF)) is not None:
        info["exif"] = b"Exif\x00\x00" + exif
    phys = blob(PHYS)
    if phys is not None and len(phys) == 9:
        x, y = int.from_bytes(phys[0:4], "big"), int.from_bytes(phys[4:8], "big")
        if phys[8] == 1:  # per metre
            info["dpi"] = x * 0.0254, y * 0.0254
        elif phys[8] == 0:
            info["aspect"] = x, y
    return info


def _webp(blob: Blob, data: bytes) -> dict[str, Any]:
    """WebPImagePlugin's keys: the animation's loop count and background (R, G, B, A),
    the first frame's timestamp and duration, the first ICCP, EXIF and XMP chunks."""
    info: dict[str, Any] = {}
    animation = blob(ANIMATION)
    if animation is not None and len(animation) == 10:
        info["loop"] = int.from_bytes(animation[0:2], "big")
        a, r, g, b = animation[2:6]
        info["background"] = (r, g, b, a)
        # what Pillow's load() sets for the first frame
        info["timestamp"], info["duration"] = 0, int.from_bytes(animation[6:10], "big")
    for key, kind in (("icc_profile", ICC), ("exif", EXIF), ("xmp", XMP)):
        if value := blob(kind):
            info[key] = value
    return info


def _gif(blob: Blob, data: bytes) -> dict[str, Any]:
    """GifImagePlugin's keys: the version and background index from the file's first
    13 bytes (the decoder has read them), then the first image's extensions."""
    info: dict[str, Any] = {"version": data[:6]}
    if len(data) >= 13 and data[10] & 0x80:  # a global palette
        info["background"] = data[11]
    comments: list[bytes] = []
    for kind, s in _records(blob(RECORDS)):
        if kind == GRAPHIC_CONTROL and len(s) >= 3:
            info["duration"] = int.from_bytes(s[1:3], "little") * 10
        elif kind == COMMENT:
            comments.append(s)
        elif kind == APPLICATION and len(s) >= 5 and len(s) >= 5 + s[4]:
            first, second = s[5:5 + s[4]], s[5 + s[4]:]
            info["extension"] = first, int.from_bytes(s[0:4], "big")
            if first.startswith(b"NETSCAPE2.0") and len(second) >= 3 and second[0] == 1:
                info["loop"] = int.from_bytes(second[1:3], "little")
    if comments:
        info["comment"] = b"\n".join(comments)
    return info


# each format's reader: its info keys from image_metadata's blobs and the file's bytes
READERS: dict[str, Callable[[Blob, bytes], dict[str, Any]]] = {
    "JPEG": _jpeg, "PNG": _png, "GIF": _gif, "WEBP": _webp}
