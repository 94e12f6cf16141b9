"""The wasm libc functions sandboxlib links into every module in place of zig's
(sandboxlib/toolchain/libc/), through a probe library (c_src/wasm_libc/) wrapped as any
other, on every backend: each alignment, length and position, the bytes just outside
the span or string given, and a span or string ending at the memory's last byte."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sandboxlib import TrapError
from conftest import ALL_BACKENDS, ISOLATING_BACKENDS
from libs import C_SRC, plain, wrap_package

PROBE = C_SRC / "wasm_libc"
NEEDLE = 0x5A
# lengths around the 16-byte blocks the functions compare, and longer ones
LENGTHS = [*range(0, 50), 63, 64, 65, 255, 1000]
FEWER_LENGTHS = [*range(0, 34), 47, 48, 49, 255]
# the end of one 64 KiB page of the memory and the start of the next
PAGE = 1 << 16


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return wrap_package("probe", PROBE / "probe.h", [PROBE / "probe.c"],
                        tmp_path_factory.mktemp("wasm_libc"))


@pytest.fixture(scope="module", params=ALL_BACKENDS)
def lib(request: pytest.FixtureRequest, probe: ModuleType) -> Iterator[Any]:
    with probe.sandbox(str(request.param)) as lib:
        yield lib


def memchr_at(lib: Any, buf: Any, start: int, length: int, c: int) -> int:
    return int(plain(lib.probe_memchr(buf.address + start, c, length)))


def test_memchr_every_alignment_length_and_position(lib: Any) -> None:
    """The needle at each position of the span, or absent with needles on both sides of
    it, at each of 16 alignments: memchr finds the first in the span, nothing outside."""
    with lib.alloc(1100) as buf:
        for start in range(16, 32):
            for length in LENGTHS:
                hay = bytes((i * 7 + 1) % 256 for i in range(length)).replace(b"\x5a", b"\x00")
                data = b"\x5a" * start + hay + b"\x5a" * 16
                buf.write(data)
                assert memchr_at(lib, buf, start, length, NEEDLE) == -1, (start, length)
                for at in sorted({0, length // 2, length - 1, *range(min(length, 17))}):
                    if at < length:
                        buf.write(b"\x5a\x5a", start + at)  # the first of two is found
                        assert memchr_at(lib, buf, start, length, NEEDLE) == at, (start, at)
                        buf.write(data[start + at:start + at + 2], start + at)


@pytest.mark.parametrize("c, found", [(0x15A, 3), (-166, 3), (0, 5), (0x100, 5), (-1, 7)])
def test_memchr_compares_the_byte_of_c(lib: Any, c: int, found: int) -> None:
    """memchr looks for ``(unsigned char)c``: 0x15A and -166 find 0x5A, 0x100 finds 0."""
    with lib.alloc(32) as buf:
        buf.write(bytes(16) + b"abc\x5a\x01\x00\x02\xff" + bytes(8))
        assert memchr_at(lib, buf, 16, 8, c) == found


@pytest.mark.parametrize("backend", ISOLATING_BACKENDS)
def test_memchr_reads_no_block_past_the_memory(probe: ModuleType, backend: str) -> None:
    """A span ending at the memory's last byte is searched to its end without a trap."""
    with probe.sandbox(backend) as lib:
        memory = lib.sandbox.memory
        end = memory.size
        for length in (1, 15, 16, 17, 100):
            memory.write(end - length, bytes(length))
            assert plain(lib.probe_memchr(end - length, NEEDLE, length)) == -1
            memory.write(end - 1, b"\x5a")
            assert plain(lib.probe_memchr(end - length, NEEDLE, length)) == length - 1


@pytest.mark.parametrize("backend", ISOLATING_BACKENDS)
def test_a_librarys_own_memchr_is_kept(tmp_path: Path, backend: str) -> None:
    """A module whose sources define memchr links theirs (it finds the last match), not
    sandboxlib's, instead of failing on the duplicate."""
    own = wrap_package("ownprobe", PROBE / "probe.h",
                       [PROBE / "probe.c", PROBE / "own_memchr.c"], tmp_path)
    with own.sandbox(backend) as lib, lib.alloc(16) as buf:
        buf.write(b"xZxZx")
        assert memchr_at(lib, buf, 0, 5, NEEDLE) == 3


def text(length: int, avoid: bytes = b"") -> bytes:
    """``length`` bytes, none of them a NUL or among ``avoid``."""
    made = ((i * 7 + 1) % 256 for i in range(length * 2))
    return bytes(b for b in made if b and b not in avoid)[:length]


def positions(length: int) -> list[int]:
    """Where in a span of ``length`` a difference or a stop is planted: each of the first
    and last 17, and the middle."""
    return sorted({*range(length // 2, length // 2 + 1 if length else 0), *range(min(length, 17)),
                   *range(max(length - 17, 0), length)})


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


def test_strlen_every_alignment_and_length(lib: Any) -> None:
    """The NUL at each length, NULs just before the string (not counted) and no NUL for
    16 bytes after it: strlen counts to the first NUL from the string's start."""
    with lib.alloc(1100) as buf:
        for start in range(16, 32):
            for length in LENGTHS:
                buf.write(bytes(start) + text(length) + b"\0" + b"x" * 16)
                assert plain(lib.probe_strlen(buf.address + start)) == length, (start, length)


def test_strchr_every_alignment_length_and_position(lib: Any) -> None:
    """The byte at each position, or absent with it just before the string and just after
    its NUL: strchr finds the first in the string, nothing outside, and the NUL for 0."""
    with lib.alloc(1100) as buf:
        for start in range(16, 32):
            for length in FEWER_LENGTHS:
                data = b"\x5a" * start + text(length, b"\x5a") + b"\0" + b"\x5a" * 16
                buf.write(data)
                at = buf.address + start
                assert plain(lib.probe_strchr(at, NEEDLE)) == -1, (start, length)
                assert plain(lib.probe_strchr(at, 0)) == length, (start, length)
                for i in positions(length):
                    buf.write(b"\x5a\x5a", start + i)  # the first of two is found
                    assert plain(lib.probe_strchr(at, NEEDLE)) == i, (start, i)
                    buf.write(data[start + i:start + i + 2], start + i)


@pytest.mark.parametrize("c, found", [(0x15A, 3), (-166, 3), (0x100, 8), (-1, 7)])
def test_strchr_looks_for_the_byte_of_c(lib: Any, c: int, found: int) -> None:
    """strchr looks for ``(char)c``: 0x15A and -166 find 0x5A, 0x100 the NUL."""
    with lib.alloc(32) as buf:
        buf.write(bytes(16) + b"abc\x5a\x01\x03\x02\xff\0" + bytes(7))
        assert plain(lib.probe_strchr(buf.address + 16, c)) == found


def memcmp_result(lib: Any, a: int, b: int, n: int) -> int:
    """memcmp's result: zig's (the two bytes' difference) on the isolating backends,
    its sign natively (glibc gives -1 or 1 for some lengths)."""
    result = int(plain(lib.probe_memcmp(a, b, n)))
    return result if lib.sandbox.backend.isolated else sign(result)


def test_memcmp_every_alignment_length_and_position(lib: Any) -> None:
    """Two spans at pairs of alignments, alike or first differing at each position (by
    more and less, the bytes after it differing the other way, the bytes just outside
    them differing too): memcmp gives the first difference's."""
    exact = lib.sandbox.backend.isolated
    with lib.alloc(2200) as buf:
        for start in range(16, 32):
            for other in (1100 + start, 1100 + (start * 5 + 3) % 16 + 16):
                for length in FEWER_LENGTHS:
                    same = text(length)
                    buf.write(b"\x00" * start + same + b"\x00" * 16)
                    buf.write(b"\xff" * (other - 1100) + same + b"\xff" * 16, 1100)
                    a, b = buf.address + start, buf.address + other
                    assert memcmp_result(lib, a, b, length) == 0, (start, other, length)
                    assert memcmp_result(lib, a, a, length) == 0, (start, length)
                    for i in positions(length):
                        for high, low in ((0x80, 0x7f), (0x01, 0xfe)):
                            buf.write(bytes([high]) + b"\x00" * (length - i - 1), start + i)
                            buf.write(bytes([low]) + b"\xff" * (length - i - 1), other + i)
                            want = high - low if exact else sign(high - low)
                            assert memcmp_result(lib, a, b, length) == want, (start, other, i)
                            assert memcmp_result(lib, b, a, length) == -want, (start, other, i)
                        buf.write(same[i:], start + i)
                        buf.write(same[i:], other + i)


def strcmp_result(lib: Any, a: int, b: int) -> int:
    """strcmp's result: zig's (-1, 0 or 1) on the isolating backends, its sign natively."""
    result = int(plain(lib.probe_strcmp(a, b)))
    return result if lib.sandbox.backend.isolated else sign(result)


def test_strcmp_every_alignment_length_and_position(lib: Any) -> None:
    """Two strings at pairs of alignments, alike, first differing at each position (by
    more and less, as unsigned chars) or one ending there (its NUL less than any byte),
    the bytes after the NULs differing: strcmp orders them by the first difference."""
    with lib.alloc(2200) as buf:
        for start in range(16, 32):
            for other in (1100 + start, 1100 + (start * 5 + 3) % 16 + 16):
                for length in FEWER_LENGTHS:
                    same = text(length)
                    buf.write(same + b"\0" + b"\x01" * 16, start)
                    buf.write(same + b"\0" + b"\x02" * 16, other)
                    a, b = buf.address + start, buf.address + other
                    assert strcmp_result(lib, a, b) == 0, (start, other, length)
                    for i in positions(length):
                        for mine, theirs in ((0x80, 0x7f), (0x01, 0xfe), (0x00, 0x01)):
                            buf.write(bytes([mine]), start + i)
                            buf.write(bytes([theirs]), other + i)
                            want = sign(mine - theirs)
                            assert strcmp_result(lib, a, b) == want, (start, other, i)
                            assert strcmp_result(lib, b, a) == -want, (start, other, i)
                        buf.write(same[i:i + 1], start + i)
                        buf.write(same[i:i + 1], other + i)


def test_strcmp_across_a_page_boundary(lib: Any) -> None:
    """Strings starting at each of the 32 bytes before a 64 KiB page's end, with the
    other string's start a different distance from it: strcmp steps across correctly."""
    with lib.alloc(3 * PAGE) as buf:
        boundary = -buf.address % PAGE + PAGE  # an offset into buf at a page's start
        same = text(100)
        for back in range(1, 33):
            a, b = boundary - back, boundary - 2 * PAGE // 3 - (back * 7) % 16
            for i in (0, back - 1, back, back + 1, 99):
                buf.write(same + b"\0", a)
                buf.write(same + b"\0", b)
                assert strcmp_result(lib, buf.address + a, buf.address + b) == 0
                buf.write(b"\xff", a + i)
                assert strcmp_result(lib, buf.address + a, buf.address + b) == 1, (back, i)
                assert strcmp_result(lib, buf.address + b, buf.address + a) == -1, (back, i)


# sets of each kind: empty, one byte, Lua's format flags, one that fills an aligned block
# (15 and its NUL), longer ones in two blocks at some alignments, and one past them (a map
# of the 256 values)
SETS = [b"", b"a", b"-+ #0123456789", bytes(range(0x61, 0x70)), bytes(range(0x61, 0x71)),
        bytes(range(0x41, 0x5f)), bytes(range(0x80, 0x100)) + b"abc"]


@pytest.mark.parametrize("accept", SETS, ids=lambda s: f"set{len(s)}")
def test_strspn_every_alignment_length_and_stop(lib: Any, accept: bytes) -> None:
    """A run of the set's bytes at each alignment of the string and of the set, ending at
    each position in a byte outside the set or the NUL, the set's own bytes just before
    the string and after its NUL, NULs or a byte outside it just before the set: strspn
    gives the run's length."""
    outside = bytes(b for b in range(1, 256) if b not in accept)[-1:]
    with lib.alloc(2200) as buf:
        for n, set_start in enumerate((1600, 1601, 1607, 1615, 1632 - len(accept) % 16)):
            before = (b"\0" if n % 2 else outside) * 32  # not the set's end, nor in it
            buf.write(before + accept + b"\0" + accept, set_start - 32)
            for start in range(16, 32):
                for length in FEWER_LENGTHS:
                    run = (accept * (length // max(len(accept), 1) + 1))[:length]
                    filler = accept[:1] * 16
                    buf.write(filler + run + b"\0" + filler, start - 16)
                    at, accepted = buf.address + start, buf.address + set_start
                    assert plain(lib.probe_strspn(at, accepted)) == len(run), (start, length)
                    for i in positions(len(run)):
                        buf.write(outside, start + i)
                        assert plain(lib.probe_strspn(at, accepted)) == i, (set_start, start, i)
                        buf.write(run[i:i + 1], start + i)


def at_memory_end(lib: Any, data: bytes) -> int:
    """``data`` written to end at the memory's last byte; its address."""
    memory = lib.sandbox.memory
    memory.write(memory.size - len(data), data)
    return int(memory.size - len(data))


@pytest.mark.parametrize("backend", ISOLATING_BACKENDS)
def test_string_functions_read_no_block_past_the_memory(probe: ModuleType, backend: str) -> None:
    """Strings and spans ending at the memory's last byte are read to their end without a
    trap, by each function, with the other string or span elsewhere (their bytes to its
    end compared too)."""
    with probe.sandbox(backend) as lib, lib.alloc(128) as buf:
        for length in (1, 7, 8, 15, 16, 17, 31, 100):
            s = text(length, b"\x5a")
            at = at_memory_end(lib, s + b"\0")
            assert plain(lib.probe_strlen(at)) == length
            assert plain(lib.probe_strchr(at, NEEDLE)) == -1
            assert plain(lib.probe_strchr(at, 0)) == length
            assert plain(lib.probe_strspn(at, at)) == length  # the set ends there too
            buf.write(s + b"\0")
            assert plain(lib.probe_strcmp(at, buf.address)) == 0
            assert plain(lib.probe_strcmp(buf.address, at)) == 0
            at = at_memory_end(lib, s)
            assert plain(lib.probe_memcmp(at, buf.address, length)) == 0
            assert plain(lib.probe_memcmp(buf.address, at, length)) == 0
            buf.write(b"\xff", length - 1)
            assert plain(lib.probe_memcmp(at, buf.address, length)) == s[-1] - 0xff


@pytest.mark.parametrize("backend", ISOLATING_BACKENDS)
def test_a_string_without_its_nul_traps(probe: ModuleType, backend: str) -> None:
    """A string that runs to the memory's end without a NUL: strlen traps (TrapError)
    once it reaches past the memory, as zig's byte loop does."""
    with probe.sandbox(backend) as lib:
        at = at_memory_end(lib, b"x" * 40)
        with pytest.raises(TrapError):
            lib.probe_strlen(at)
