"""A content-addressed build cache: the same inputs are never compiled twice."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

CACHE_ENV = "SANDBOXLIB_CACHE"
FORMAT = "2"  # bump when the layout of cache entries changes


def cache_root() -> Path:
    """$SANDBOXLIB_CACHE, else $XDG_CACHE_HOME/sandboxlib, else ~/.cache/sandboxlib."""
    if os.environ.get(CACHE_ENV):
        root = Path(os.environ[CACHE_ENV])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = Path(base) / "sandboxlib"
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
        h.update(b"\0s" + item.encode())
    dirs = [s.parent for s in sources] + [Path(d) for d in include_dirs]
    for path in [*sources, *_headers_near(dirs)]:
        h.update(b"\0f" + path.name.encode() + b"\0" + path.read_bytes())
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
