"""An image file's bytes, read a chunk at a time and no further than a sandbox could
hold them: a file that never ends (``/dev/zero``, a pipe, a file object that lies)
is refused, not read into the host's memory without bound."""

from __future__ import annotations

from typing import IO

from ._errors import ImageError
from ._session import HEADROOM, MAX_MEMORY

MAX_FILE = MAX_MEMORY - HEADROOM  # the most bytes of a file a sandbox holds beside its own
CHUNK = 1 << 20


def read(fp: IO[bytes], most: int) -> bytes:
    """Up to ``most`` bytes of ``fp`` (fewer at its end; a ``read`` giving more than it
    was asked counts all it gave); ``ImageError`` if ``read`` gives anything but bytes."""
    parts: list[bytes] = []
    left = most
    while left > 0:
        part = fp.read(min(left, CHUNK))
        if not isinstance(part, (bytes, bytearray)):
            raise ImageError(f"the file's read() gave {type(part).__name__}, not bytes")
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_whole(fp: IO[bytes], head: bytes = b"") -> bytes:
    """``head``, the bytes already read, and the rest of ``fp``; ``ImageError`` past
    ``MAX_FILE`` bytes in all."""
    data = head + read(fp, MAX_FILE + 1 - len(head))
    if len(data) > MAX_FILE:
        raise ImageError(f"the file is larger than a sandbox holds ({MAX_FILE} bytes)")
    return data
