"""Third-party C sources, pinned by sha256, fetched from Debian's archive or as a PyPI
sdist from the package indexes pip is configured with (``pypi``: read as pages, never
through pip's resolver, which would run the sdist's build code).

The archive's address is never written into the project: it is read from this
machine's apt configuration, or from $SANDBOXLIB_DEBIAN_MIRROR. A tarball is taken
from the directory $SANDBOXLIB_SOURCES names when it holds one of that file name (the
sdist carries the pinned ones so: ``bundle_pins``), else downloaded; either way it is
verified before it is opened, extracted with every member checked, and published into
the content cache atomically, so a second call needs no network.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import ssl
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import BuildError
from ..progress import progress
from .cache import build_entry, discard, scratch_dir
from .pins import PINS, SourcePin
from .pypi import pip_locations, sdist_link

MIRROR_ENV = "SANDBOXLIB_DEBIAN_MIRROR"
SOURCES_ENV = "SANDBOXLIB_SOURCES"  # a directory of tarballs, looked in before the network
APT_DIR = Path("/etc/apt")
TIMEOUT = 30.0                  # seconds, per network operation
MAX_DOWNLOAD = 256 << 20        # when the caller gives no expected size
MAX_EXTRACTED = 1 << 30         # sum of member sizes
MAX_MEMBERS = 20_000            # files, directories and links (zlib and expat: under 200)
SCHEMES = ("http", "https", "file")

# Release names and aliases: a suite named so (or "<name>-updates" ...) is Debian's.
DEBIAN_SUITES = frozenset({
    "stable", "testing", "unstable", "sid", "experimental", "oldstable", "oldoldstable",
    "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke",
})
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9.+-]+")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REQUIREMENT = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)")
_PIP_HINT = "pip's configuration (`pip config list`) says which indexes are read."
_NO = frozenset({"no", "false", "off", "0"})


def _hint() -> str:
    return (f"The Debian archive's address is read from the apt configuration in {APT_DIR}; "
            f"to use another, set {MIRROR_ENV} to its URL (the directory that holds pool/).")


# -- where the archive is -----------------------------------------------------------


@dataclass(frozen=True)
class AptSource:
    """One archive an apt configuration lists (one URI of a deb or deb-src entry)."""

    uri: str
    suites: tuple[str, ...]
    signed_by: str = ""

    def is_debian(self) -> bool:
        last = PurePosixPath(urllib.parse.urlsplit(self.uri).path).name
        return (last in ("debian", "debian-security")
                or "debian-archive-keyring" in self.signed_by
                or any(s.split("-")[0].split("/")[0] in DEBIAN_SUITES for s in self.suites))

    def rank(self) -> int:
        """0 for the main distribution, 1 for its -updates and the like, 2 for security."""
        if urllib.parse.urlsplit(self.uri).path.rstrip("/").endswith("-security"):
            return 2
        return min((2 if "security" in s or "/" in s else 1 if "-" in s else 0
                    for s in self.suites), default=2)


def _deb822(text: str) -> list[AptSource]:
    stanzas: list[dict[str, str]] = [{}]
    key = ""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            stanzas.append({})
        elif line[0].isspace() and key:
            stanzas[-1][key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            stanzas[-1][key] = value.strip()
    found: list[AptSource] = []
    for st in stanzas:
        if st.get("enabled", "yes").lower() in _NO:
            continue
        if not {"deb", "deb-src"} & set(st.get("types", "").split()):
            continue
        suites = tuple(st.get("suites", "").split())
        found += [AptSource(uri, suites, st.get("signed-by", ""))
                  for uri in st.get("uris", "").split()]
    return found


def _one_line(text: str) -> list[AptSource]:
    found: list[AptSource] = []
    for raw in text.splitlines():
        kind, *more = raw.split("#", 1)[0].split(None, 1) or [""]
        if kind not in ("deb", "deb-src") or not more:
            continue
        rest = more[0].strip()
        options: dict[str, str] = {}
        if rest.startswith("["):
            inside, _, rest = rest[1:].partition("]")
            for option in inside.split():
                name, _, value = option.partition("=")
                options[name.lower()] = value
        words = rest.split()
        if len(words) >= 2 and options.get("enabled", "yes").lower() not in _NO:
            found.append(AptSource(words[0], (words[1],), options.get("signed-by", "")))
    return found


def apt_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every archive the apt configuration under ``apt_dir`` enables, in apt's order.
    Files apt would not read (``*.disabled``, ``*.save``...) are skipped."""
    found: list[AptSource] = []
    parts = apt_dir / "sources.list.d"
    files = [apt_dir / "sources.list", *(sorted(parts.iterdir()) if parts.is_dir() else [])]
    for path in files:
        if path.suffix not in (".list", ".sources") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found += _deb822(text) if path.suffix == ".sources" else _one_line(text)
    return found


def debian_mirror(apt_dir: Path = APT_DIR) -> str:
    """The Debian archive's URL (without a trailing slash): $SANDBOXLIB_DEBIAN_MIRROR,
    else the apt configuration's Debian archive, preferring the main distribution
    over -updates and -security."""
    override = os.environ.get(MIRROR_ENV, "").strip()
    if override:
        if urllib.parse.urlsplit(override).scheme not in SCHEMES:
            raise BuildError(f"{MIRROR_ENV}={override!r} is not an http(s):// or file:// URL")
        return override.rstrip("/")
    candidates = [s for s in apt_sources(apt_dir)
                  if s.is_debian() and urllib.parse.urlsplit(s.uri).scheme in SCHEMES]
    if not candidates:
        raise BuildError(f"no Debian archive is configured for apt in {apt_dir}; set "
                         f"{MIRROR_ENV} to the URL of one (the directory that holds pool/)")
    return min(candidates, key=AptSource.rank).uri.rstrip("/")


def pool_path(package: str, filename: str) -> str:
    """``pool/main/<letter>/<package>/<filename>``; the letter of libfoo is ``libf``."""
    letter = package[:4] if package.startswith("lib") and len(package) > 3 else package[0]
    return "/".join(urllib.parse.quote(p, safe="+~")
                    for p in ("pool", "main", letter, package, filename))


# -- download, verify, extract ----------------------------------------------------


def _copy(source: BinaryIO, dest: Path, limit: int, where: str) -> tuple[int, str]:
    """Copy ``source`` into ``dest`` (at most ``limit`` bytes); its size and sha256."""
    digest = hashlib.sha256()
    got = 0
    with dest.open("wb") as out:
        while chunk := source.read(1 << 16):
            got += len(chunk)
            if got > limit:
                raise BuildError(f"{where} holds more than the {limit} bytes expected")
            digest.update(chunk)
            out.write(chunk)
    return got, digest.hexdigest()


def _download(url: str, dest: Path, limit: int, tls: ssl.SSLContext | None = None,
              hint: str | None = None) -> str:
    """Stream ``url`` into ``dest`` (at most ``limit`` bytes); return its sha256. An
    error says ``hint`` (default: where the Debian archive's address comes from)."""
    expected: int | None = None
    hint = _hint() if hint is None else hint
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "sandboxlib"})
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=tls) as resp:
            length = resp.headers.get("Content-Length", "")
            expected = int(length) if length.isdigit() else None
            if expected is not None and expected > limit:
                raise BuildError(f"{url} is {expected} bytes, more than the {limit} expected")
            size = f"{expected / (1 << 20):.1f} MiB" if expected is not None else "size unknown"
            with progress(f"downloading {dest.name} ({size})"):
                got, sha256 = _copy(resp, dest, limit, url)
    except urllib.error.HTTPError as e:
        raise BuildError(f"could not download {url}: HTTP {e.code} {e.reason}. {hint}") from e
    except (OSError, http.client.HTTPException) as e:
        reason = e.reason if isinstance(e, urllib.error.URLError) else e
        raise BuildError(f"could not download {url}: {reason}. {hint}") from e
    if expected is not None and got != expected:
        raise BuildError(f"could not download {url}: the connection closed after {got} of "
                         f"{expected} bytes. {hint}")
    return sha256


def local_tarball(filename: str) -> Path | None:
    """``filename`` in the directory $SANDBOXLIB_SOURCES names, if it is there."""
    folder = os.environ.get(SOURCES_ENV, "").strip()
    path = Path(folder, filename) if folder else None
    return path if path is not None and path.is_file() else None


def _obtain(package: str, filename: str, sha256: str, limit: int, dest: Path) -> None:
    """Put the tarball at ``dest``: copied from $SANDBOXLIB_SOURCES if it is there, else
    downloaded; verified by ``sha256`` either way (a mismatch is a BuildError)."""
    local = local_tarball(filename)
    if local is not None:
        try:
            with local.open("rb") as source:
                actual = _copy(source, dest, limit, str(local))[1]
        except OSError as e:
            raise BuildError(f"cannot read {local}: {e}") from e
        origin = f"copied from {local} (${SOURCES_ENV}), not used"
    else:
        url = f"{debian_mirror()}/{pool_path(package, filename)}"
        actual = _download(url, dest, limit)
        origin = f"downloaded from {url}, deleted"
    if actual != sha256:
        raise BuildError(f"{filename}: sha256 mismatch ({origin}):\n  expected {sha256}\n"
                         f"  actual   {actual}")


def _escapes(name: str) -> bool:
    path = PurePosixPath(name)
    return path.is_absolute() or ".." in path.parts or "\\" in name


def _refusal(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` may not be extracted, or None. Stricter than tarfile's "data"
    filter: a link's target may not contain ".." at all, so no chain of links can
    lead out of the tree (older "data" filters could be fooled so)."""
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        return "it is not a regular file, directory or link"
    if _escapes(member.name):
        return "its path is absolute or contains '..'"
    if (member.issym() or member.islnk()) and _escapes(member.linkname):
        return f"it links to {member.linkname!r}, which is absolute or contains '..'"
    return None


def _extract(tarball: Path, dest: Path) -> None:
    try:
        with tarfile.open(tarball, "r:*") as tar:
            members: list[tarfile.TarInfo] = []
            for m in tar:  # read lazily: stop at the limit before holding every header
                if len(members) == MAX_MEMBERS:
                    raise BuildError(f"{tarball.name}: has more than {MAX_MEMBERS} members "
                                     "(the limit); refusing to extract it")
                if (why := _refusal(m)) is not None:
                    raise BuildError(f"{tarball.name}: refusing to extract {m.name!r}: {why}")
                members.append(m)
            if sum(m.size for m in members) > MAX_EXTRACTED:
                raise BuildError(f"{tarball.name}: extracts to more than {MAX_EXTRACTED} bytes")
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, OSError) as e:
        raise BuildError(f"{tarball.name}: cannot extract: {e}") from e


def _top_dir(tree: Path) -> Path:
    entries = list(tree.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return tree


def _checked(package: str, filename: str, sha256: str) -> str:
    """``sha256`` in lower case, once the three names are checked."""
    sha256 = sha256.lower()
    if not _PACKAGE.fullmatch(package):
        raise BuildError(f"{package!r} is not a Debian source package name")
    if not _FILENAME.fullmatch(filename):
        raise BuildError(f"{filename!r} is not a plain file name")
    if not _SHA256.fullmatch(sha256):
        raise BuildError(f"{sha256!r} is not a sha256 (64 hex digits)")
    return sha256


def fetch_debian_source(package: str, filename: str, sha256: str,
                        size: int | None = None) -> Path:
    """Obtain ``filename`` of Debian source package ``package`` ($SANDBOXLIB_SOURCES,
    else the archive), check its sha256, extract it into the cache and return the
    tarball's top directory (the extraction root if there is not exactly one). Cached:
    a second call uses no network. Raises BuildError on a network error, a hash
    mismatch (a downloaded file is deleted) or an unsafe archive member."""
    sha256 = _checked(package, filename, sha256)

    def obtain(download: Path) -> Path:
        tarball = download / filename
        _obtain(package, filename, sha256, MAX_DOWNLOAD if size is None else size, tarball)
        return tarball
    return _unpacked(sha256, obtain)


def _unpacked(sha256: str, obtain: Callable[[Path], Path]) -> Path:
    """The top directory of the tarball of ``sha256``, extracted into the cache once:
    ``obtain`` puts it, verified, into the scratch folder it is given and returns its
    path (the folder is deleted afterwards, whatever happens)."""
    def fetch(tree: Path) -> None:
        download = scratch_dir("sources")
        try:
            _extract(obtain(download), tree)
        finally:
            discard(download)
    return _top_dir(build_entry("sources", sha256, "", fetch))


def fetch_pypi_sdist(requirement: str, sha256: str, size: int) -> Path:
    """The sdist of ``requirement`` (``name==version``) from the indexes pip is
    configured with (``pypi.sdist_link``), checked against ``sha256`` and ``size``,
    extracted into the cache like a Debian tarball; its top directory. Nothing of the
    sdist runs. Cached: a second call reads no index."""
    sha256 = sha256.lower()
    pinned = _REQUIREMENT.fullmatch(requirement)
    if pinned is None:
        raise BuildError(f"{requirement!r} is not a pinned requirement (name==version)")
    name, version = pinned.groups()
    if not _SHA256.fullmatch(sha256):
        raise BuildError(f"{sha256!r} is not a sha256 (64 hex digits)")

    def obtain(download: Path) -> Path:
        where = pip_locations()
        url = sdist_link(name, version, sha256, where)
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        if not _FILENAME.fullmatch(filename):
            raise BuildError(f"{url}: {filename!r} is not a plain file name")
        tarball = download / filename
        actual = _download(url, tarball, size, where.tls(), _PIP_HINT)
        if actual != sha256:
            raise BuildError(f"{filename}: sha256 mismatch (downloaded from {url}, deleted):\n"
                             f"  expected {sha256}\n  actual   {actual}")
        return tarball
    return _unpacked(sha256, obtain)


def fetch_pin(pin: SourcePin) -> Path:
    """The extracted sources of a pinned tarball (see sandboxlib.toolchain.pins)."""
    top = fetch_debian_source(pin.package, pin.filename, pin.sha256, pin.size)
    if top.name != pin.topdir:
        raise BuildError(f"{pin.filename}: extracted to {top.name!r}, the pin says "
                         f"{pin.topdir!r}")
    return top


def bundle_pins(folder: Path) -> list[Path]:
    """Every pinned tarball (``pins.PINS``), verified, into ``folder`` under its file
    name: what an sdist carries so that building it needs no network (point
    $SANDBOXLIB_SOURCES at ``folder``). A file already there is verified again."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for pin in PINS.values():
        dest = folder / pin.filename
        staging = folder / f".{pin.filename}.part"
        try:
            _obtain(pin.package, pin.filename, _checked(pin.package, pin.filename, pin.sha256),
                    pin.size, staging)
            staging.replace(dest)
        finally:
            staging.unlink(missing_ok=True)
        written.append(dest)
    return written
