"""The wasm libc functions sandboxlib links into every module in place of zig's
(sandboxlib/toolchain/libc/), through a probe library (c_src/wasm_libc/) wrapped as any
other, on every backend: each alignment, length and position, the bytes just outside
the span given, and a span ending at the memory's last byte."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ALL_BACKENDS, ISOLATING_BACKENDS
from libs import C_SRC, plain, wrap_package

PROBE = C_SRC / "wasm_libc"
NEEDLE = 0x5A
# lengths around the 16-byte blocks memchr compares, and longer ones
LENGTHS = [*range(0, 50), 63, 64, 65, 255, 1000]


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
