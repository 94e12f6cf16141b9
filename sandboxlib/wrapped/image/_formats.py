"""The formats the drop-in decodes: how each is recognised, its generated package, and
how the layouts its decoder reports (``shim/image.h``) map to Pillow's modes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple

from . import _gif, _jpeg, _png, _webp


class Layout(NamedTuple):
    """A decoder's pixel layout: the Pillow mode it becomes, the raw mode that unpacks
    it (Pillow's own, so the conversion is Pillow's), its bits per pixel."""

    mode: str
    rawmode: str
    bits: int


# By the name of the layout's constant in shim/image.h. Converted where Pillow converts:
# 2- and 4-bit grey scaled to 8 bits; 16-bit RGB(A) and grey+alpha to their high bytes
# (grey+alpha as RGBA); 16-bit grey kept as I;16.
LAYOUTS = {
    "IMAGE_1": Layout("1", "1", 1), "IMAGE_L2": Layout("L", "L;2", 2),
    "IMAGE_L4": Layout("L", "L;4", 4), "IMAGE_L": Layout("L", "L", 8),
    "IMAGE_I16B": Layout("I;16", "I;16B", 16), "IMAGE_RGB": Layout("RGB", "RGB", 24),
    "IMAGE_RGB16B": Layout("RGB", "RGB;16B", 48), "IMAGE_P1": Layout("P", "P;1", 1),
    "IMAGE_P2": Layout("P", "P;2", 2), "IMAGE_P4": Layout("P", "P;4", 4),
    "IMAGE_P": Layout("P", "P", 8), "IMAGE_LA": Layout("LA", "LA", 16),
    "IMAGE_LA16B": Layout("RGBA", "LA;16B", 32), "IMAGE_RGBA": Layout("RGBA", "RGBA", 32),
    "IMAGE_RGBA16B": Layout("RGBA", "RGBA;16B", 64),
    "IMAGE_CMYKI": Layout("CMYK", "CMYK;I", 32), "IMAGE_RGBX": Layout("RGB", "RGBX", 32),
}


@dataclass(frozen=True)
class Format:
    """One format: Pillow's name for it, a test of a file's first bytes, its decoder's
    package, the most bytes per pixel the decoder holds while decoding, whether it
    decodes a strip of rows at a time (``image_rows``) or the whole image
    (``image_pixels``), and the ``info`` keys Pillow's plugin sets only when it loads
    the pixels."""

    name: str
    accept: Callable[[bytes], bool]
    package: ModuleType
    bytes_per_pixel: int
    strips: bool = False
    info_at_load: tuple[str, ...] = ()

    def layouts(self) -> dict[int, Layout]:
        """The layouts by the values the decoder reports (its package's constants)."""
        return {getattr(self.package, name): layout for name, layout in LAYOUTS.items()}


FORMATS = {f.name: f for f in (
    Format("PNG", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"), _png, 8),
    Format("GIF", lambda head: head[:6] in (b"GIF87a", b"GIF89a"), _gif, 1),
    # libjpeg's coefficients (2 bytes a sample, kept whole for a progressive image) and
    # the pixels
    Format("JPEG", lambda head: head.startswith(b"\xff\xd8\xff"), _jpeg, 16, strips=True),
    # the animation decoder's two RGBA canvases and libwebp's own buffers
    Format("WEBP", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP", _webp, 16,
           info_at_load=("timestamp", "duration")),
)}


def chosen(names: Iterable[str] | None) -> list[Format]:
    """The formats ``names`` names (Pillow's names, in any case; None: all of them);
    ``ValueError`` for a name the drop-in does not decode."""
    wanted = [name.upper() for name in names] if names is not None else list(FORMATS)
    unknown = [name for name in wanted if name not in FORMATS]
    if unknown:
        raise ValueError(f"unknown formats {unknown}; known: {', '.join(FORMATS)}")
    return [FORMATS[name] for name in wanted]
