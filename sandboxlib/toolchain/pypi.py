"""Where a pinned sdist is: the package indexes and find-links locations pip is
configured with on this machine (``pip config list``: its files and ``PIP_*``
variables), read as PEP 503 simple pages.

Only pages are read: pip's own ``download`` would run the sdist's build code to learn its
metadata, and the sources a spec names are untrusted. The caller downloads the link and
verifies it (sha256 and size) before anything is extracted.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from ..errors import BuildError

PIP = (sys.executable, "-m", "pip")  # its configuration is this machine's
PAGE_LIMIT = 16 << 20                # bytes of one index page
# pip's precedence: its variables, then the download command's section, then global
_SECTIONS = (":env:", "download", "global")
_ENTRY = re.compile(r"([^.\s]*)\.([a-z-]+)='(.*)'")
_DEFAULT_INDEX = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"
_SDIST = re.compile(r"(?i)(.+)-([^-]+)(\.tar\.gz|\.zip)")


@dataclass(frozen=True)
class PipLocations:
    """Where pip looks for distributions: index base URLs, index-url's first."""

    indexes: tuple[str, ...]
    find_links: tuple[str, ...]  # directories or pages of links
    cert: str | None = None      # pip's CA bundle, if it names one

    def tls(self) -> ssl.SSLContext | None:
        """The TLS context pip would verify servers with (None: Python's default)."""
        return ssl.create_default_context(cafile=self.cert) if self.cert else None


def pip_locations() -> PipLocations:
    """The indexes and find-links pip is configured with here. Without an index-url of
    its own, pip's default index (pip knows it; this project does not write it)."""
    try:
        proc = subprocess.run([*PIP, "config", "list"], capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BuildError(f"pip config list: {e}") from e
    if proc.returncode != 0:
        raise BuildError(f"pip config list failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    found: dict[str, dict[str, str]] = {}
    for line in proc.stdout.splitlines():
        if m := _ENTRY.fullmatch(line.strip()):
            found.setdefault(m[2], {})[m[1]] = m[3]

    def setting(key: str) -> str | None:
        values = found.get(key, {})
        return next((values[s] for s in _SECTIONS if s in values), None)

    no_index = (setting("no-index") or "").lower() in ("1", "true", "yes", "on")
    index = setting("index-url") or _pips_default_index()
    indexes = () if no_index else (index, *(setting("extra-index-url") or "").split())
    return PipLocations(indexes, tuple((setting("find-links") or "").split()), setting("cert"))


def _pips_default_index() -> str:
    """pip's default index, asked of pip in a child process (importing pip's modules
    here would load the standard library's distutils before setuptools' own)."""
    try:
        proc = subprocess.run([sys.executable, "-c", _DEFAULT_INDEX], capture_output=True,
                              text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BuildError(f"asking pip for its default index: {e}") from e
    url = proc.stdout.strip()
    if proc.returncode != 0 or not url:
        raise BuildError("pip has no index-url configured and its default is unknown: set "
                         f"PIP_INDEX_URL\n{proc.stderr[-2000:]}")
    return url


def sdist_link(name: str, version: str, sha256: str, where: PipLocations) -> str:
    """The URL of ``name``'s ``version`` sdist: the link that names ``sha256``, else the
    first whose file name is that sdist's, in pip's order. BuildError if none does."""
    pages = [f"{index.rstrip('/')}/{_normalized(name)}/" for index in where.indexes]
    fallback: str | None = None
    for page in [*pages, *where.find_links]:
        for url in _links(page, where.tls()):
            path, _, fragment = url.partition("#")
            if fragment.lower() == f"sha256={sha256}":
                return path
            if fallback is None and _is_sdist_of(path, name, version):
                fallback = path
    if fallback is None:
        raise BuildError(f"no sdist of {name} {version} in pip's indexes or find-links "
                         f"({', '.join([*pages, *where.find_links]) or 'none configured'})")
    return fallback


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_sdist_of(url: str, name: str, version: str) -> bool:
    filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    m = _SDIST.fullmatch(filename)
    return m is not None and _normalized(m[1]) == _normalized(name) and m[2] == version


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.hrefs.append(href)


def _links(location: str, context: ssl.SSLContext | None) -> list[str]:
    """Absolute links of a page (an index's project page, or a find-links page); of a
    local directory, its files. A page that does not exist has none."""
    scheme = urllib.parse.urlsplit(location).scheme
    if not scheme or len(scheme) == 1:  # a path (a drive letter is no scheme)
        location = Path(location).absolute().as_uri()
    if urllib.parse.urlsplit(location).scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(location).path))
        if not path.exists():
            return []
        if path.is_dir():
            if not (path / "index.html").is_file():
                return sorted(p.as_uri() for p in path.iterdir())
            location = (path / "index.html").as_uri()
    try:
        request = urllib.request.Request(location, headers={"User-Agent": "sandboxlib",
                                                            "Accept": "text/html"})
        with urllib.request.urlopen(request, timeout=30, context=context) as resp:
            text = resp.read(PAGE_LIMIT + 1)
    except urllib.error.HTTPError as e:
        if e.code == 404:  # the index has no such project
            return []
        raise BuildError(f"could not read {location}: HTTP {e.code} {e.reason}") from e
    except OSError as e:
        raise BuildError(f"could not read {location}: {e}") from e
    if len(text) > PAGE_LIMIT:
        raise BuildError(f"{location} is larger than {PAGE_LIMIT} bytes")
    anchors = _Anchors()
    anchors.feed(text.decode("utf-8", "replace"))
    return [urllib.parse.urljoin(location, href) for href in anchors.hrefs]
