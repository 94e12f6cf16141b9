"""Opening a path inside a directory without ever leaving it (WASI preopens).

The path is walked one component at a time from the directory's descriptor;
every component is opened with ``O_NOFOLLOW``, symbolic links are read and
spliced in by hand (an absolute target, or ``..`` above the directory, is an
escape and fails with EPERM), so neither ``..`` nor a link can reach outside,
even if the tree changes while it is walked.
"""

from __future__ import annotations

import errno
import os

MAX_SYMLINKS = 40


def _split(path: bytes) -> list[bytes]:
    return [p for p in path.split(b"/") if p and p != b"."]


def _link_target(name: bytes, dir_fd: int) -> bytes | None:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOENT, errno.ENOTDIR):
            return None  # not a link; opening it reports the real error
        raise


def open_beneath(root: int, path: bytes, flags: int, follow_last: bool,
                 mode: int = 0o666) -> int:
    """Open ``path`` relative to the directory descriptor ``root``, staying inside it.
    Raises OSError (EPERM for an escape, ELOOP for a final link not followed)."""
    if not path:
        raise OSError(errno.ENOENT, "empty path")
    if path.startswith(b"/"):
        raise OSError(errno.EPERM, "absolute path")
    if path.endswith(b"/"):
        flags |= os.O_DIRECTORY
    parts = _split(path)
    dirs = [root]  # the walk so far; all but root are ours to close
    links = 0
    try:
        while parts:
            name = parts.pop(0)
            if name == b"..":
                if len(dirs) == 1:
                    raise OSError(errno.EPERM, "path leaves the directory")
                os.close(dirs.pop())
                continue
            if parts or follow_last:
                target = _link_target(name, dirs[-1])
                if target is not None:
                    links += 1
                    if links > MAX_SYMLINKS:
                        raise OSError(errno.ELOOP, "too many symbolic links")
                    if target.startswith(b"/"):
                        raise OSError(errno.EPERM, "symbolic link leaves the directory")
                    parts = _split(target) + parts
                    continue
            if not parts:
                return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dirs[-1])
            dirs.append(os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                dir_fd=dirs[-1]))
        return os.open(".", flags | os.O_CLOEXEC, mode, dir_fd=dirs[-1])
    finally:
        for fd in dirs[1:]:
            os.close(fd)
