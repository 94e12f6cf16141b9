"""A content-addressed build cache: the same inputs are never compiled twice."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
import platformdirs

from ..progress import progress

CACHE_ENV = "SANDBOXLIB_CACHE"
FORMAT = "2"  # bump when the layout of cache entries changes


def cache_root() -> Path:
    """$SANDBOXLIB_CACHE, else the platform's user cache directory for sandboxlib
    (platformdirs: ~/.cache/sandboxlib or $XDG_CACHE_HOME/sandboxlib on Linux)."""
    root = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("sandboxlib"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _headers_near(paths: Iterable[Path]) -> list[Path]:
    found: set[Path] = set()
    for d in paths:
        if d.is_dir():
            found.update(p for p in d.glob("*.h") if p.is_file())
    return sorted(found)


def content_key(kind: str, sources: Iterable[Path], include_dirs: Iterable[Path],
                settings: Iterable[str]) -> str:
    """Hash of everything a build reads: sources, headers beside them and in the
    include directories, and the settings (flags, exports, compiler version)."""
    sources = [Path(s) for s in sources]
    h = hashlib.sha256(f"{FORMAT}\0{kind}".encode())
    for item in settings:
        h.update(b"\0s" + os.fsencode(item))  # (a path in no encoding: its bytes)
    dirs = [s.parent for s in sources] + [Path(d) for d in include_dirs]
    for path in [*sources, *_headers_near(dirs)]:
        h.update(b"\0f" + os.fsencode(path.name) + b"\0" + path.read_bytes())
    return h.hexdigest()[:32]


def entry_dir(kind: str, key: str) -> Path:
    return cache_root() / kind / key


def publish(tmp: Path, final: Path) -> None:
    """Move a finished build into place atomically (concurrent builders are safe)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, final)
    except OSError:
        if not final.exists():
            raise


def scratch_dir(kind: str) -> Path:
    root = cache_root() / kind
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".build-", dir=root))


def discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def build_entry(kind: str, key: str, done: str, build: Callable[[Path], None]) -> Path:
    """The entry ``kind/key``, built once however many threads and processes ask at once.

    An entry holding ``done`` (a path inside it, "" for the entry itself) is returned
    as it is. Otherwise the entry's file lock is taken (another builder waits, then
    finds the entry) and ``build(tmp)`` fills a scratch directory that is published
    as the entry, replacing what an interrupted build left; if it raises, nothing is
    published."""
    final = entry_dir(kind, key)
    if (final / done).exists():
        return final
    with _locked(cache_root() / ".locks" / kind / key, f"{kind}/{key}"):
        if not (final / done).exists():
            discard(final)
            tmp = scratch_dir(kind)
            try:
                build(tmp)
                publish(tmp, final)
            finally:
                discard(tmp)
    return final


@contextmanager
def _locked(path: Path, what: str) -> Iterator[None]:
    """Hold the file lock at ``path`` (shown as progress while another holds it).
    Lock files stay (removing one could let two holders in), apart from the entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, preserve_lock_file=True)
    try:
        lock.acquire(blocking=False)
    except filelock.Timeout:
        with progress(f"waiting for a concurrent build of {what}"):
            lock.acquire()
    try:
        yield
    finally:
        lock.release()
