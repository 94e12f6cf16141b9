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

# sandboxlib.wrapped.image's decoders: Debian 13's versions. libpng 1.6.48's simplified
# API (png_image_*) has published overflows fixed in 1.6.51 and 1.6.52; the drop-in calls
# only the row-by-row API, which they do not reach.
LIBPNG = SourcePin(
    name="libpng", package="libpng1.6", version="1.6.48",
    filename="libpng1.6_1.6.48.orig.tar.gz",
    sha256="b17e99026055727e8cba99160c3a9a7f9af788e9f786daeadded5a42243f1dd0",
    size=1572923, topdir="libpng-1.6.48",
)

# Debian 12's and 13's libjpeg-turbo.
LIBJPEG_TURBO = SourcePin(
    name="libjpeg-turbo", package="libjpeg-turbo", version="2.1.5",
    filename="libjpeg-turbo_2.1.5.orig.tar.gz",
    sha256="254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c",
    size=2264471, topdir="libjpeg-turbo-2.1.5",
)

# Debian 13's libwebp: no published CVE affects it.
LIBWEBP = SourcePin(
    name="libwebp", package="libwebp", version="1.5.0",
    filename="libwebp_1.5.0.orig.tar.gz",
    sha256="7d6fab70cf844bf6769077bd5d7a74893f8ffd4dfb42861745750c63c2a5c92c",
    size=4267494, topdir="libwebp-1.5.0",
)

# The real-library corpus (tests/test_corpus.py, c_src/corpus/): Debian 12's versions
# but xz's.
BZIP2 = SourcePin(
    name="bzip2", package="bzip2", version="1.0.8",
    filename="bzip2_1.0.8.orig.tar.gz",
    sha256="ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269",
    size=810029, topdir="bzip2-1.0.8",
)

# Debian 13's: 5.4.1 (Debian 12's) does not compile for WASI (its single-threaded
# mythread.h calls sigprocmask, which WASI's libc does not declare); 5.6 and later skip it.
XZ = SourcePin(
    name="xz", package="xz-utils", version="5.8.1",
    filename="xz-utils_5.8.1.orig.tar.xz",
    sha256="0b54f79df85912504de0b14aec7971e3f964491af1812d83447005807513cd9e",
    size=1461872, topdir="xz-5.8.1",
)

PCRE2 = SourcePin(
    name="pcre2", package="pcre2", version="10.42",
    filename="pcre2_10.42.orig.tar.gz",
    sha256="c33b418e3b936ee3153de2c61cc638e7e4fe3156022a5c77d0711bcbb9d64f1f",
    size=2397194, topdir="pcre2-10.42",
)

JANSSON = SourcePin(
    name="jansson", package="jansson", version="2.14",
    filename="jansson_2.14.orig.tar.gz",
    sha256="c739578bf6b764aa0752db9a2fdadcfe921c78f1228c7ec0bb47fa804c55d17b",
    size=141500, topdir="jansson-2.14",
)

GIFLIB = SourcePin(
    name="giflib", package="giflib", version="5.2.1",
    filename="giflib_5.2.1.orig.tar.gz",
    sha256="31da5562f44c5f15d63340a09a4fd62b48c45620cd302f77a6d9acf0077879bd",
    size=444187, topdir="giflib-5.2.1",
)

# Lua 5.4 as Debian 12 packages it (lua5.4 5.4.4-3+deb12u1; the tarball is lua.org's
# lua-5.4.4.tar.gz): its error path is setjmp/longjmp (luaD_throw).
LUA = SourcePin(
    name="lua", package="lua5.4", version="5.4.4",
    filename="lua5.4_5.4.4.orig.tar.gz",
    sha256="164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61",
    size=360876, topdir="lua-5.4.4",
)

PINS: dict[str, SourcePin] = {pin.name: pin for pin in (
    ZLIB, EXPAT, LZ4, STB, LIBPNG, LIBJPEG_TURBO, LIBWEBP, BZIP2, XZ, PCRE2, JANSSON, GIFLIB, LUA)}
