"""pytest-benchmark: decode a 1024x768 PNG, JPEG, WebP and GIF per call, sandbox
included, Pillow's own decoders (the baseline) against sandboxlib.wrapped.image on each
isolating backend. No thresholds: compare the rows of each group
(``pytest benchmarks/test_bench_image.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxlib.bench import ISOLATING
from sandboxlib.wrapped.image.bench import OPTIONS, pillow_decode, sample

import sandboxlib.wrapped.image as si


@pytest.mark.parametrize("contender", ["pillow", *ISOLATING])
@pytest.mark.parametrize("fmt", list(OPTIONS))
def test_decode_1024x768(benchmark: Any, fmt: str, contender: str) -> None:
    benchmark.group = f"image: decode a 1024x768 {fmt}, sandbox included"
    benchmark.extra_info["baseline"] = "pillow"
    data = sample(fmt)
    decode = pillow_decode if contender == "pillow" else \
        lambda d: si.open(d, backend=contender)
    image = benchmark.pedantic(decode, args=(data,), rounds=9, iterations=1, warmup_rounds=1)
    assert image.tobytes() == pillow_decode(data).tobytes()
