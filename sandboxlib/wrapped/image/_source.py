"""An image file's bytes, read a chunk at a time and no further than a sandbox could
hold them: a file that never ends (``/dev/zero``, a pipe, a file object that lies)
is refused, not read into the host's memory without bound; a path that names no
regular file (a FIFO, a device) is refused before anything waits on it."""

from __future__ import annotations

import os
import stat
from typing import IO

from ._errors import ImageError, NotAnImageError
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


def open_regular(path: str | os.PathLike[str]) -> IO[bytes]:
    """The regular file at ``path``, opened for reading without waiting (a FIFO's open
    waits for a writer, its reads for data that may never come); ``NotAnImageError``
    for anything else (a FIFO, a device, a directory, a socket)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotAnImageError(f"cannot identify image file: {os.fspath(path)!r} is "
                                  "not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
