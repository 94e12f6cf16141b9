"""What a decode that fails raises: in sandboxlib's family and in Pillow's."""

from __future__ import annotations

from PIL import UnidentifiedImageError

from sandboxlib import SandboxError


class ImageError(SandboxError, OSError):
    """An image that cannot be decoded (broken, truncated, past the sandbox's limits):
    an ``OSError``, as Pillow's decoders raise."""


class NotAnImageError(ImageError, UnidentifiedImageError):
    """Data in none of the formats asked for, or whose header cannot be read: Pillow's
    ``UnidentifiedImageError``."""
