"""1 MiB zlib compress (level 6) and decompress (pytest-benchmark): CPython's zlib and
sandboxlib.wrapped.zlib on every backend, in the groups ``zlib_compress_1MiB`` and
``zlib_decompress_1MiB`` so the ratios can be read side by side. No thresholds: the
asserts only check that the bytes are right."""

from __future__ import annotations

import zlib
from typing import Any, Callable

import pytest

import sandboxlib.wrapped.zlib as wz
from sandboxlib.backends import BACKENDS
from sandboxlib.bench.payloads import text_like as make_payload
from sandboxlib.wrapped.zlib.bench import LEVEL

CONTENDERS = ["cpython", *BACKENDS]
DATA = make_payload()
PACKED = zlib.compress(DATA, LEVEL)


def _compressor(who: str) -> Callable[[bytes, int], bytes]:
    if who == "cpython":
        return zlib.compress
    return lambda data, level: wz.compress(data, level, backend=who)


def _decompressor(who: str) -> Callable[[bytes], bytes]:
    if who == "cpython":
        return zlib.decompress
    return lambda data: wz.decompress(data, backend=who)


@pytest.mark.parametrize("who", CONTENDERS)
def test_compress_1mib(benchmark: Any, who: str) -> None:
    benchmark.group = "zlib_compress_1MiB"
    assert benchmark(_compressor(who), DATA, LEVEL) == PACKED


@pytest.mark.parametrize("who", CONTENDERS)
def test_decompress_1mib(benchmark: Any, who: str) -> None:
    benchmark.group = "zlib_decompress_1MiB"
    assert benchmark(_decompressor(who), PACKED) == DATA
