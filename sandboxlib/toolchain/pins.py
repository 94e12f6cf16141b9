"""Third-party C sources the project builds, pinned by version and sha256.

The hashes are those of the upstream tarballs in Debian's archive; each was checked
against the archive's signed release metadata (InRelease → Sources → tarball).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourcePin:
    """One upstream tarball: ``package``'s ``filename`` in Debian's pool."""

    name: str      # the library's name in sandboxlib (spec files refer to it)
    package: str   # the Debian source package
    version: str   # the upstream version
    filename: str  # the file under pool/main/<letter>/<package>/
    sha256: str
    size: int      # in bytes; a download that grows past it is cut off
    topdir: str    # the directory the tarball extracts to


ZLIB = SourcePin(
    name="zlib", package="zlib", version="1.2.13",
    filename="zlib_1.2.13.dfsg.orig.tar.bz2",
    sha256="71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1",
    size=1239825, topdir="zlib-1.2.13.dfsg",
)

# A tag archive of the upstream repository (so ~8 MB, with test data); the C
# library is under expat/lib/ in it.
EXPAT = SourcePin(
    name="expat", package="expat", version="2.5.0",
    filename="expat_2.5.0.orig.tar.gz",
    sha256="ab00ee05c7067fd10a35c5d2a4922ebba746ddd50ff83b79c828da17bbdf1757",
    size=8320988, topdir="libexpat-R_2_5_0",
)

# The version python-lz4 4.4 bundles (Debian 13's; its Sources list this hash).
LZ4 = SourcePin(
    name="lz4", package="lz4", version="1.10.0",
    filename="lz4_1.10.0.orig.tar.gz",
    sha256="537512904744b35e232912055ccf8ec66d768639ff3abe5788d90d792ec5f48b",
    size=387114, topdir="lz4-1.10.0",
)

# Sean Barrett's single-file libraries, as Debian 12 packages them (stb_image.h v2.27).
STB = SourcePin(
    name="stb", package="libstb", version="0.0~git20220908.8b5f1f3",
    filename="libstb_0.0~git20220908.8b5f1f3+ds.orig.tar.xz",
    sha256="6949c8ff9f86d982cff1b384f1301a731cbaf3b3fa4d1728c7b48a02386d31d8",
    size=1086580, topdir="libstb-0.0~git20220908.8b5f1f3+ds",
)

# Lua 5.4 as Debian 12 packages it (lua5.4 5.4.4-3+deb12u1; the tarball is lua.org's
# lua-5.4.4.tar.gz): its error path is setjmp/longjmp (luaD_throw).
LUA = SourcePin(
    name="lua", package="lua5.4", version="5.4.4",
    filename="lua5.4_5.4.4.orig.tar.gz",
    sha256="164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61",
    size=360876, topdir="lua-5.4.4",
)

PINS: dict[str, SourcePin] = {pin.name: pin for pin in (ZLIB, EXPAT, LZ4, STB, LUA)}
