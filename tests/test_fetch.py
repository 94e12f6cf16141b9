"""Pinned third-party sources: finding the Debian archive, verifying, safe extraction."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sandboxlib.errors import BuildError, SandboxError
from sandboxlib.toolchain import fetch
from sandboxlib.toolchain.fetch import (
    MAX_MEMBERS, MIRROR_ENV, SOURCES_ENV, bundle_pins, debian_mirror, fetch_debian_source,
    fetch_pin, fetch_pypi_sdist, pool_path,
)
from sandboxlib.toolchain.pins import PINS, ZLIB, SourcePin
from sandboxlib.toolchain.pypi import pip_locations

from libs import C_SRC

pytestmark = pytest.mark.quick  # no compiler: `make quick` runs every test here

# Made-up archive addresses (".invalid" never resolves).
MAIN = "http://main.mirror.invalid/debian"
SECURITY = "http://main.mirror.invalid/debian-security"
OTHER = "http://other.mirror.invalid/debian"
USER_MIRROR = os.environ.get(MIRROR_ENV, "")  # honoured by the real fetch only


# -- finding the archive in an apt configuration ------------------------------------


def apt_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "apt"
    (root / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


@pytest.fixture(autouse=True)
def no_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    monkeypatch.setenv("SANDBOXLIB_CACHE", str(tmp_path / "cache"))


def test_deb822_prefers_the_main_distribution_over_security(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {"sources.list.d/debian.sources": f"""\
Types: deb
URIs: {SECURITY}
Suites: bookworm-security
Components: main

Types: deb
# a comment inside a stanza
URIs: {MAIN}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""})
    assert debian_mirror(root) == MAIN


def test_one_line_format_with_options(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {"sources.list": f"""\
# deb {OTHER} bookworm main
deb {SECURITY} bookworm-security main
deb-src [ arch=amd64 signed-by=/usr/share/keyrings/x.gpg ] {MAIN}/ bookworm main  # trailing
"""})
    assert debian_mirror(root) == MAIN


def test_disabled_files_and_stanzas_are_ignored(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {
        "sources.list.d/a.sources.disabled": f"Types: deb\nURIs: {OTHER}\nSuites: bookworm\n",
        "sources.list.d/b.list.save": f"deb {OTHER} bookworm main\n",
        "sources.list.d/c.sources": f"Types: deb\nURIs: {OTHER}\nSuites: bookworm\nEnabled: no\n",
        "sources.list.d/d.list": f"deb [enabled=no] {OTHER} bookworm main\n",
        "sources.list.d/e.sources": f"Types: deb\nURIs: {MAIN}\nSuites: trixie\n",
    })
    assert debian_mirror(root) == MAIN


def test_third_party_archives_are_not_taken_for_debian(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {
        "sources.list": "deb http://packages.vendor.invalid/apt vendor-tools main\n",
        "sources.list.d/node.sources":
            "Types: deb\nURIs: http://node.invalid/x\nSuites: nodistro\n",
    })
    with pytest.raises(BuildError, match=MIRROR_ENV):
        debian_mirror(root)


def test_environment_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = apt_dir(tmp_path, {"sources.list": f"deb {MAIN} bookworm main\n"})
    monkeypatch.setenv(MIRROR_ENV, OTHER + "/")
    assert debian_mirror(root) == OTHER
    monkeypatch.setenv(MIRROR_ENV, "ftp://x.invalid/debian")
    with pytest.raises(BuildError, match=MIRROR_ENV):
        debian_mirror(root)


def test_pool_layout() -> None:
    assert pool_path("zlib", "z_1.orig.tar.gz") == "pool/main/z/zlib/z_1.orig.tar.gz"
    assert pool_path("libpng1.6", "f+x~1.tar.xz") == "pool/main/libp/libpng1.6/f+x~1.tar.xz"


# -- fetching from an archive served on 127.0.0.1 -------------------------------------


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory served over http on 127.0.0.1, set as the override archive."""
    root = tmp_path / "archive"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def publish_tarball(archive: Path, package: str, filename: str,
                    members: list[tuple[tarfile.TarInfo, bytes]]) -> str:
    """Write a .tar.gz of ``members`` into the archive's pool; return its sha256."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = archive / pool_path(package, filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


GOOD = [(entry("demo-1.0", tarfile.DIRTYPE), b""), (entry("demo-1.0/demo.h"), b"#define DEMO 1\n"),
        (entry("demo-1.0/README", tarfile.SYMTYPE, "demo.h"), b"")]


def cache_leftovers(tmp_path: Path) -> list[str]:
    sources = tmp_path / "cache" / "sources"
    return sorted(p.name for p in sources.iterdir()) if sources.exists() else []


def test_fetch_verifies_extracts_and_then_needs_no_network(
        archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = publish_tarball(archive, "demo", "demo_1.0.orig.tar.gz", GOOD)
    top = fetch_debian_source("demo", "demo_1.0.orig.tar.gz", sha)
    assert top.name == "demo-1.0"
    assert (top / "demo.h").read_bytes() == b"#define DEMO 1\n"
    assert (top / "README").is_symlink()
    assert cache_leftovers(tmp_path) == [sha]  # the tarball and scratch dirs are gone
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9")  # nothing listens there
    assert fetch_debian_source("demo", "demo_1.0.orig.tar.gz", sha.upper()) == top


def test_sha256_mismatch_is_refused_and_nothing_is_left(archive: Path, tmp_path: Path) -> None:
    actual = publish_tarball(archive, "demo", "demo_1.0.orig.tar.gz", GOOD)
    wrong = "0" * 64
    with pytest.raises(BuildError, match="sha256 mismatch") as err:
        fetch_debian_source("demo", "demo_1.0.orig.tar.gz", wrong)
    assert wrong in str(err.value) and actual in str(err.value)
    assert cache_leftovers(tmp_path) == []


UNSAFE = {
    "parent": [(entry("../escape"), b"x")],
    "nested parent": [(entry("demo/../../escape"), b"x")],
    "absolute": [(entry("/tmp/escape"), b"x")],
    "symlink out": [(entry("demo/link", tarfile.SYMTYPE, "../../escape"), b"")],
    "absolute symlink": [(entry("demo/link", tarfile.SYMTYPE, "/etc"), b"")],
    "hard link out": [(entry("demo/link", tarfile.LNKTYPE, "../escape"), b"")],
    "device": [(entry("demo/null", tarfile.CHRTYPE), b"")],
}


@pytest.mark.parametrize("members", UNSAFE.values(), ids=UNSAFE.keys())
def test_unsafe_members_are_refused(archive: Path, tmp_path: Path,
                                    members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    sha = publish_tarball(archive, "demo", "demo_1.0.orig.tar.gz", [*GOOD, *members])
    with pytest.raises(BuildError, match="refusing to extract"):
        fetch_debian_source("demo", "demo_1.0.orig.tar.gz", sha)
    assert cache_leftovers(tmp_path) == []
    assert not list(tmp_path.rglob("escape"))


def test_an_archive_of_too_many_members_is_refused_and_nothing_is_extracted(
        archive: Path, tmp_path: Path) -> None:
    header = entry("demo/empty").tobuf(tarfile.GNU_FORMAT)  # one 512-byte block, no data
    tarball = gzip.compress(header * 300_000 + bytes(1024), compresslevel=1)
    path = archive / pool_path("demo", "demo_1.0.orig.tar.gz")
    path.parent.mkdir(parents=True)
    path.write_bytes(tarball)
    sha = hashlib.sha256(tarball).hexdigest()
    with pytest.raises(BuildError, match=f"demo_1.0.orig.tar.gz: has more than "
                                         f"{MAX_MEMBERS} members") as err:
        fetch_debian_source("demo", "demo_1.0.orig.tar.gz", sha)
    assert isinstance(err.value, SandboxError)
    assert cache_leftovers(tmp_path) == []
    assert not list((tmp_path / "cache").rglob("demo"))


def test_missing_file_names_the_url_and_the_override(archive: Path) -> None:
    with pytest.raises(BuildError, match=f"HTTP 404.*{MIRROR_ENV}") as err:
        fetch_debian_source("demo", "demo_9.orig.tar.gz", "0" * 64)
    assert "/pool/main/d/demo/demo_9.orig.tar.gz" in str(err.value)


def test_unreachable_archive_names_the_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9")
    with pytest.raises(BuildError, match=f"could not download.*{MIRROR_ENV}"):
        fetch_debian_source("demo", "demo_1.0.orig.tar.gz", "0" * 64)


def test_bad_names_are_refused() -> None:
    for package, filename in [("../x", "f.tar.gz"), ("demo", "../f.tar.gz"), ("demo", ".f")]:
        with pytest.raises(BuildError):
            fetch_debian_source(package, filename, "0" * 64)
    with pytest.raises(BuildError, match="sha256"):
        fetch_debian_source("demo", "f.tar.gz", "abc")


def test_concurrent_fetches_agree(archive: Path, tmp_path: Path) -> None:
    sha = publish_tarball(archive, "demo", "demo_1.0.orig.tar.gz", GOOD)
    barrier = threading.Barrier(3)
    results: list[Path | BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(fetch_debian_source("demo", "demo_1.0.orig.tar.gz", sha))
        except BaseException as e:  # reported by the assertion below
            results.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and isinstance(results[0], Path), results
    assert (results[0] / "demo.h").is_file()
    assert cache_leftovers(tmp_path) == [sha]


# -- tarballs at hand ($SANDBOXLIB_SOURCES, what the sdist carries) ------------------


NOWHERE = "http://127.0.0.1:9"  # nothing listens there


def test_a_tarball_at_hand_is_verified_and_used_without_network(
        archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = publish_tarball(archive, "demo", "demo_1.0.orig.tar.gz", GOOD)
    at_hand = tmp_path / "third_party"
    at_hand.mkdir()
    (at_hand / "demo_1.0.orig.tar.gz").write_bytes(
        (archive / pool_path("demo", "demo_1.0.orig.tar.gz")).read_bytes())
    monkeypatch.setenv(SOURCES_ENV, str(at_hand))
    monkeypatch.setenv(MIRROR_ENV, NOWHERE)
    top = fetch_debian_source("demo", "demo_1.0.orig.tar.gz", sha)
    assert (top / "demo.h").read_bytes() == b"#define DEMO 1\n"
    assert (at_hand / "demo_1.0.orig.tar.gz").exists()  # the sdist's copy stays


def test_a_tarball_at_hand_that_does_not_match_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at_hand = tmp_path / "third_party"
    at_hand.mkdir()
    (at_hand / "demo_1.0.orig.tar.gz").write_bytes(b"tampered")
    monkeypatch.setenv(SOURCES_ENV, str(at_hand))
    monkeypatch.setenv(MIRROR_ENV, NOWHERE)
    with pytest.raises(BuildError, match="sha256 mismatch") as err:
        fetch_debian_source("demo", "demo_1.0.orig.tar.gz", "0" * 64)
    assert str(at_hand / "demo_1.0.orig.tar.gz") in str(err.value)
    assert hashlib.sha256(b"tampered").hexdigest() in str(err.value)
    assert cache_leftovers(tmp_path) == []


def test_bundled_pins_build_offline_and_a_bad_download_is_not_bundled(
        archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filename = "demo_1.0.orig.tar.gz"
    sha = publish_tarball(archive, "demo", filename, GOOD)
    size = (archive / pool_path("demo", filename)).stat().st_size
    pin = SourcePin("demo", "demo", "1.0", filename, sha, size, "demo-1.0")
    monkeypatch.setattr(fetch, "PINS", {"demo": pin})
    served = os.environ[MIRROR_ENV]
    bundled = tmp_path / "sdist" / "third_party"
    assert bundle_pins(bundled) == [bundled / filename]
    assert sorted(p.name for p in bundled.iterdir()) == [filename]
    monkeypatch.setenv(SOURCES_ENV, str(bundled))
    monkeypatch.setenv(MIRROR_ENV, NOWHERE)
    assert fetch_pin(pin).name == "demo-1.0"
    assert bundle_pins(bundled) == [bundled / filename]  # re-verified from where it is
    monkeypatch.setenv(MIRROR_ENV, served)
    wrong = SourcePin("demo", "demo", "1.0", "demo_2.0.orig.tar.gz", "1" * 64, size,
                      "demo-2.0")
    monkeypatch.delenv(SOURCES_ENV)
    monkeypatch.setattr(fetch, "PINS", {"demo": wrong})
    publish_tarball(archive, "demo", "demo_2.0.orig.tar.gz", GOOD)
    with pytest.raises(BuildError, match="sha256 mismatch"):
        bundle_pins(bundled)
    assert sorted(p.name for p in bundled.iterdir()) == [filename]  # nor a partial file


# -- a PyPI sdist, through this machine's pip configuration (the real one) ------------

LZ4_SDIST = tomllib.loads((C_SRC / "cves" / "lz4_1_9_3" / "lz4.toml").read_text())["source"]


def lz4_sdist_or_skip(sha256: str = LZ4_SDIST["sha256"], size: int = LZ4_SDIST["size"]) -> Path:
    """python-lz4 3.1.3's sdist fetched with ``sha256`` and ``size``; the test is
    skipped when no index pip is configured with has it or can be read from here (a
    refusal is not a skip)."""
    try:
        return fetch_pypi_sdist(LZ4_SDIST["pypi"], sha256, size)
    except BuildError as e:
        if str(e).startswith(("no sdist of", "could not read")):
            pytest.skip(f"pip's indexes give no python-lz4 3.1.3 here: {e}")
        raise


def test_an_sdist_is_verified_extracted_and_then_needs_no_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = lz4_sdist_or_skip()
    assert top.name == "lz4-3.1.3"
    assert "#define LZ4_VERSION_RELEASE  3" in (top / "lz4libs" / "lz4.h").read_text()
    assert cache_leftovers(tmp_path) == [LZ4_SDIST["sha256"]]
    monkeypatch.setattr(fetch, "pip_locations", None)  # cached: no index is read again
    assert fetch_pypi_sdist(LZ4_SDIST["pypi"], LZ4_SDIST["sha256"], LZ4_SDIST["size"]) == top


def test_an_sdist_of_another_sha256_or_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="sha256 mismatch"):
        lz4_sdist_or_skip(sha256="0" * 64)
    with pytest.raises(BuildError, match="more than the 10"):
        lz4_sdist_or_skip(size=10)
    with pytest.raises(BuildError, match="not a pinned requirement"):
        fetch_pypi_sdist("lz4>=3.1.3", LZ4_SDIST["sha256"], LZ4_SDIST["size"])
    assert cache_leftovers(tmp_path) == []


# -- a PyPI sdist from a package index made here: data, never code --------------------

SETUP_PY = """import pathlib
pathlib.Path({marker!r}).write_text("the sdist's build code ran")
from setuptools import setup
setup(name="evil", version="1.0")
"""


def simple_index(tmp_path: Path, href: str = "../../{file}#sha256={sha256}") -> tuple[str, int]:
    """A PEP 503 index at tmp_path/simple serving evil 1.0's sdist, whose setup.py
    writes tmp_path/ran when run; its sha256 and size."""
    sdist = io.BytesIO()
    with tarfile.open(fileobj=sdist, mode="w:gz") as tar:
        for name, text in {"PKG-INFO": "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
                           "setup.py": SETUP_PY.format(marker=str(tmp_path / "ran"))}.items():
            member = tarfile.TarInfo(f"evil-1.0/{name}")
            member.size = len(text.encode())
            tar.addfile(member, io.BytesIO(text.encode()))
    data = sdist.getvalue()
    (tmp_path / "evil-1.0.tar.gz").write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    page = tmp_path / "simple" / "evil"
    page.mkdir(parents=True)
    link = href.format(file="evil-1.0.tar.gz", sha256=sha256)
    (page / "index.html").write_text(f'<html><body><a href="{link}">evil-1.0.tar.gz</a>\n'
                                     '<a href="../../evil-0.9.tar.gz">evil-0.9.tar.gz</a>'
                                     "</body></html>\n")
    return sha256, len(data)


@pytest.fixture
def only_that_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip configured with the index at tmp_path/simple alone (no configuration files),
    building without isolation as it would where its index also serves setuptools."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", (tmp_path / "simple").as_uri())
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")


@pytest.mark.usefixtures("only_that_index")
def test_an_sdist_is_fetched_without_running_its_build_code(tmp_path: Path) -> None:
    """The sources a spec names are untrusted: fetching them runs none of their code
    (pip's resolver would run setup.py to read the sdist's metadata)."""
    sha256, size = simple_index(tmp_path)
    top = fetch_pypi_sdist("evil==1.0", sha256, size)
    assert (top / "setup.py").is_file()
    assert not (tmp_path / "ran").exists(), "fetching ran the sdist's setup.py"



@pytest.mark.usefixtures("only_that_index")
@pytest.mark.parametrize("href", ["../../{file}", "../../{file}#md5=0"],
                         ids=["no-hash", "another-hash"])
def test_a_link_without_the_sha256_is_taken_by_its_name_and_verified(
        tmp_path: Path, href: str) -> None:
    sha256, size = simple_index(tmp_path, href)
    assert (fetch_pypi_sdist("Evil==1.0", sha256, size) / "PKG-INFO").is_file()
    with pytest.raises(BuildError, match="sha256 mismatch"):  # the name is no guarantee
        fetch_pypi_sdist("evil==1.0", "1" * 64, size)
    with pytest.raises(BuildError, match="no sdist of evil 1.1"):
        fetch_pypi_sdist("evil==1.1", "2" * 64, size)


@pytest.mark.usefixtures("only_that_index")
def test_a_link_naming_a_path_is_refused(tmp_path: Path) -> None:
    sha256, size = simple_index(tmp_path, "..%2F..%2F{file}#sha256={sha256}")
    with pytest.raises(BuildError, match="not a plain file name"):
        fetch_pypi_sdist("evil==1.0", sha256, size)
    assert not (tmp_path / "ran").exists()


def test_pip_locations_follow_pips_precedence(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """pip's variables over its configuration files; find-links, extra indexes and
    no-index as pip reads them."""
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = file:///global\nextra-index-url = file:///x1 "
                      "file:///x2\nfind-links = /wheels\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    found = pip_locations()
    assert (found.indexes, found.find_links) == (
        ("file:///global", "file:///x1", "file:///x2"), ("/wheels",))
    monkeypatch.setenv("PIP_INDEX_URL", "file:///env")
    assert pip_locations().indexes[0] == "file:///env"
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL")
    (default,) = pip_locations().indexes  # none configured: pip's own default
    assert default.startswith("https://") and default != "file:///env"
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert pip_locations().indexes == ()


@pytest.mark.usefixtures("only_that_index")
def test_a_find_links_folder_serves_the_sdist(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sha256, size = simple_index(tmp_path)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    assert fetch_pypi_sdist("evil==1.0", sha256, size).name == "evil-1.0"
    assert not (tmp_path / "ran").exists()


# -- the real thing, through this machine's Debian archive ---------------------------


def test_pins_are_well_formed() -> None:
    for name, pin in PINS.items():
        assert name == pin.name and len(pin.sha256) == 64 and pin.size > 0
        assert pin.version in pin.filename


def test_real_zlib_fetch_through_the_configured_archive(
        monkeypatch: pytest.MonkeyPatch) -> None:
    if USER_MIRROR:
        monkeypatch.setenv(MIRROR_ENV, USER_MIRROR)
    try:
        url = f"{debian_mirror()}/{pool_path(ZLIB.package, ZLIB.filename)}"
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10).close()
    except (BuildError, urllib.error.URLError, OSError) as e:
        if not isinstance(e, urllib.error.HTTPError):  # a 404 is a real failure: run on
            pytest.skip(f"the Debian archive is not reachable from here ({e}); "
                        f"set {MIRROR_ENV} to a reachable one to run this test")
    top = fetch_pin(ZLIB)
    assert top.name == ZLIB.topdir
    assert f'#define ZLIB_VERSION "{ZLIB.version}"' in (top / "zlib.h").read_text()
