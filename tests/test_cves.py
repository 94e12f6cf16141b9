"""Real CVEs, contained: published memory-safety bugs of releases of the libraries
sandboxlib wraps (built test-only from c_src/cves/, inputs made in tests/cves.py).

For each: natively, under AddressSanitizer in a child process, the bug fires where its
advisory says; in a sandbox on both isolating backends the host goes on, the call ends
in a TrapError or a wrong result made of the sandbox's own memory, a second sandbox of
the same library (mid-work) is untouched, and the attacked one is poisoned (after a
trap) or still answers right."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sandboxlib import PoisonedError, TrapError

from cves import (BLACK, CASES, GIF2RGB_SIZE, GIF_SIZE, LZ4_TEXT, PGM, PGM_PIXELS, WEBP_PIXEL,
                  WHITE, Case, GzipStream, PngRead, asan_runtime, decode_gif, decode_webp, gif,
                  gif2rgb, gif_frames, gzip_member, lz4_file, lz4_read, palette_png, ppm_gray)
from libs import plain

TABLES_BYTES = 2954 * 4  # libwebp's Huffman tables of one group (kTableSize[0] entries)
OVERFLOW = 432           # what the trigger's tables write past them

# (case, what AddressSanitizer reports; the case's frame is in its stack or the
# allocation's)
NATIVE = [("CVE-2022-37434", "heap-buffer-overflow"),
          ("GHSL-2023-145", "heap-use-after-free"),
          ("CVE-2022-28506", "heap-buffer-overflow"),
          ("CVE-2023-4863", "heap-buffer-overflow"),
          ("CVE-2022-23852", "heap-buffer-overflow"),
          ("CVE-2021-46822", "heap-buffer-overflow"),
          ("CVE-2025-66293", "global-buffer-overflow"),
          ("CVE-2021-3520", "negative-size-param")]


@pytest.mark.parametrize("name, report", NATIVE)
def test_the_bug_fires_natively_under_asan(name: str, report: str) -> None:
    runtime = asan_runtime()
    if runtime is None:
        pytest.skip("the host C compiler has no AddressSanitizer runtime")
    env = {**os.environ, "LD_PRELOAD": str(runtime), "ASAN_OPTIONS": "detect_leaks=0"}
    proc = subprocess.run([sys.executable, "cves.py", name], capture_output=True, text=True,
                          cwd=Path(__file__).parent, env=env, timeout=900)
    assert proc.returncode != 0 and "returned" not in proc.stdout, proc.stdout
    assert f"ERROR: AddressSanitizer: {report}" in proc.stderr, proc.stderr[-3000:]
    assert f" in {CASES[name].frame} " in proc.stderr, proc.stderr[-3000:]


def assert_traps_and_poisons(case: Case, pkg: ModuleType, lib: Any) -> None:
    """``case``'s attack on ``lib`` ends in an out-of-bounds trap, and every later use
    of ``lib`` raises."""
    with pytest.raises(TrapError, match="out-of-bounds memory access"):
        case.trigger(pkg, lib)
    assert lib.poisoned is not None
    with pytest.raises(PoisonedError):
        lib.alloc(16)


def test_zlib_cve_2022_37434_traps_and_poisons_only_its_sandbox(
        isolating_backend: str) -> None:
    """The 4 GiB copy past the extra buffer is an out-of-bounds access: a trap."""
    case = CASES["CVE-2022-37434"]
    pkg = case.package()
    payload = b"the bystander's data " * 500
    member = gzip_member(b"ok", payload)
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        stream = GzipStream(pkg, other, member, 16)
        assert stream.inflate(len(member) // 2) == 0  # mid-stream when the attack comes
        assert_traps_and_poisons(case, pkg, lib)
        assert other.poisoned is None
        assert stream.inflate(len(member) - len(member) // 2) == 1  # Z_STREAM_END
        assert stream.produced == payload
        assert plain(stream.head.extra_len) == 2 and plain(stream.extra.read(2)) == b"ok"


def test_stb_image_ghsl_2023_145_reads_only_its_sandboxs_memory(
        isolating_backend: str) -> None:
    """The read before the frame buffer stays in the sandbox's memory (there: a freed
    earlier frame): no trap, a wrong pixel; the sandbox decodes right afterwards."""
    case = CASES["GHSL-2023-145"]
    pkg = case.package()
    benign = gif(GIF_SIZE, gif_frames(restore=False))
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        expected = decode_gif(other, benign)
        assert [frame[:4] for frame in expected] == [WHITE, BLACK, WHITE, WHITE]
        frames = case.trigger(pkg, lib)
        assert [frame[:4] for frame in frames[:3]] == [WHITE, BLACK, WHITE]
        # "restore to previous" should bring back the second frame's black at (0, 0);
        # without the restore it would stay white
        assert frames[3][:4] not in (BLACK, WHITE)
        assert frames[3][4:] == expected[3][4:]
        assert lib.poisoned is None and other.poisoned is None
        assert decode_gif(lib, benign) == expected
        assert decode_gif(other, benign) == expected


def test_giflib_cve_2022_28506_reads_only_its_sandboxs_memory(
        isolating_backend: str) -> None:
    """The look-ups past the colour map read the sandbox's own heap: no trap, pixels of
    neither colour of the map; the sandbox converts right afterwards."""
    case = CASES["CVE-2022-28506"]
    pkg = case.package()
    benign = gif(GIF2RGB_SIZE, [(0, 0, 1, 1), (1, 0, 1, 0)])
    white, black = WHITE[:3], BLACK[:3]
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        expected = gif2rgb(other, benign)
        assert expected == white + black * (GIF2RGB_SIZE * GIF2RGB_SIZE - 1)
        rgb = case.trigger(pkg, lib)
        pixels = [rgb[i:i + 3] for i in range(0, len(rgb), 3)]
        assert pixels[0] == white and pixels[-1] == black
        assert any(pixel not in (white, black) for pixel in pixels[1:-1])
        assert lib.poisoned is None and other.poisoned is None
        assert gif2rgb(lib, benign) == expected
        assert gif2rgb(other, benign) == expected


def test_libwebp_cve_2023_4863_overflows_only_its_sandboxs_heap(
        isolating_backend: str) -> None:
    """The Huffman tables overflow inside the sandbox's heap (what they wrote past their
    allocation is still there when the allocator hands the same chunk back); the decoder
    then refuses the incomplete code and returns NULL, and decodes right afterwards."""
    case = CASES["CVE-2023-4863"]
    pkg = case.package()
    pixel = bytes([20, 10, 30, 40])  # RGBA
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        assert decode_webp(other, WEBP_PIXEL) == pixel
        assert case.trigger(pkg, lib) is None
        tables = lib.alloc(TABLES_BYTES)
        assert any(lib.sandbox.memory.read(tables.address + TABLES_BYTES, OVERFLOW))
        tables.free()
        assert lib.poisoned is None and other.poisoned is None
        assert decode_webp(other, WEBP_PIXEL) == pixel
        assert decode_webp(lib, WEBP_PIXEL) == pixel


def test_expat_cve_2022_23852_traps_and_poisons_only_its_sandbox(
        isolating_backend: str) -> None:
    """The application's write through the buffer XML_GetBuffer lied about is checked
    against the sandbox's memory, not expat's buffer: it tramples expat's own heap, and
    parsing then traps."""
    case = CASES["CVE-2022-23852"]
    pkg = case.package()
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        parser = other.XML_ParserCreate(0)
        other.XML_SetHashSalt(parser, 1)
        assert plain(other.helpers.XML_Parse(parser, b"<doc>", 0)) == 1  # mid-document
        assert_traps_and_poisons(case, pkg, lib)
        assert other.poisoned is None
        assert plain(other.helpers.XML_Parse(parser, b"text</doc>", 1)) == 1
        assert plain(other.XML_GetErrorCode(parser)) == 0


def test_libjpeg_turbo_cve_2021_46822_traps_and_poisons_only_its_sandbox(
        isolating_backend: str) -> None:
    """The row's overrun tramples the memory manager's pools in the sandbox's heap;
    freeing them then follows a trampled link out of the sandbox's memory: a trap."""
    case = CASES["CVE-2021-46822"]
    pkg = case.package()
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        assert ppm_gray(other, PGM, len(PGM_PIXELS)) == PGM_PIXELS
        assert_traps_and_poisons(case, pkg, lib)
        assert other.poisoned is None
        assert ppm_gray(other, PGM, len(PGM_PIXELS)) == PGM_PIXELS


def test_libpng_cve_2025_66293_reads_only_its_sandboxs_memory(
        isolating_backend: str) -> None:
    """The look-up past png_sRGB_base reads what follows the table in the sandbox's
    memory: no trap, a wrong pixel (white on white is white); the sandbox reads right
    afterwards."""
    case = CASES["CVE-2025-66293"]
    pkg = case.package()
    benign = palette_png((0, 255, 255))
    grey, white = b"\x20" * 3, b"\xff" * 3
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        reading = PngRead(pkg, other, benign)  # header read when the attack comes
        pixels = case.trigger(pkg, lib)
        assert pixels[:6] == white * 2 and pixels[6:] != white
        assert lib.poisoned is None and other.poisoned is None
        assert reading.finish(0x20) == grey + white * 2
        assert PngRead(pkg, lib, benign).finish(0x20) == grey + white * 2


def test_lz4_cve_2021_3520_traps_and_poisons_only_its_sandbox(isolating_backend: str) -> None:
    """The memmove of (size_t)-1 bytes runs past the end of the sandbox's memory: a trap."""
    case = CASES["CVE-2021-3520"]
    pkg = case.package()
    part = lz4_file(len(LZ4_TEXT), LZ4_TEXT)
    with pkg.sandbox(isolating_backend) as other, pkg.sandbox(isolating_backend) as lib:
        out = other.alloc(2 * len(LZ4_TEXT))
        assert lz4_read(other, part, out.address) == len(LZ4_TEXT)  # half the file read
        assert_traps_and_poisons(case, pkg, lib)
        assert other.poisoned is None
        assert lz4_read(other, part, out.address + len(LZ4_TEXT)) == len(LZ4_TEXT)
        assert plain(out.read()) == LZ4_TEXT * 2
