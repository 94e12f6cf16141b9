"""Decode a 1024x768 image per call, sandbox included, on each isolating backend,
against Pillow's own decoder of the same file ("native": the baseline), measured
interleaved in one run. The files are made by Pillow from a synthetic photo-like image:
PNG (Pillow's default compression), JPEG (quality 90, 4:2:0), WebP (lossy, quality 80)
and GIF (an adaptive palette).

``workload`` adds ``image_{png,jpeg,webp,gif}_decode_1024x768`` to ``sandboxlib bench``;
``python -m sandboxlib.wrapped.image.bench`` prints them.
"""

from __future__ import annotations

import functools
import io

from PIL import Image

from sandboxlib.bench import ISOLATING, Record, interleaved_medians

import sandboxlib.wrapped.image as si

SIZE = (1024, 768)
OPTIONS = {"PNG": {}, "JPEG": {"quality": 90}, "WEBP": {"quality": 80}, "GIF": {}}


@functools.cache
def sample(fmt: str) -> bytes:
    """A photo-like ``SIZE`` image saved by Pillow as ``fmt`` (made once per process)."""
    detail = Image.effect_mandelbrot(SIZE, (-0.75, -0.2, -0.65, -0.1), 60)
    rgb = Image.merge("RGB", [detail, Image.linear_gradient("L").resize(SIZE),
                              Image.radial_gradient("L").resize(SIZE)])
    out = io.BytesIO()
    (rgb.convert("P", palette=Image.Palette.ADAPTIVE) if fmt == "GIF" else rgb).save(
        out, format=fmt, **OPTIONS[fmt])
    return out.getvalue()


def pillow_decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image


def bench_decode(fmt: str, rounds: int = 9) -> dict[str, float]:
    """Median seconds per decode of ``sample(fmt)``: each isolating backend and
    "native" (Pillow)."""
    data = sample(fmt)
    expected = pillow_decode(data).tobytes()
    for backend in ISOLATING:  # warm-up (builds) and a check
        if si.open(data, backend=backend).tobytes() != expected:
            raise AssertionError(f"{fmt} on {backend}: pixels differ from Pillow's")
    ops = {"native": functools.partial(pillow_decode, data),
           **{b: functools.partial(si.open, data, backend=b) for b in ISOLATING}}
    return interleaved_medians(ops, rounds)


def workload(record: Record, quick: bool) -> None:
    """``sandboxlib bench``: ``image_*_decode_1024x768`` on each backend."""
    for fmt in OPTIONS:
        for backend, seconds in bench_decode(fmt, rounds=3 if quick else 9).items():
            record(f"image_{fmt.lower()}_decode_1024x768", backend, seconds, "ms")


def main() -> None:
    for fmt in OPTIONS:
        results = bench_decode(fmt)
        for backend, seconds in results.items():
            print(f"decode a 1024x768 {fmt} ({len(sample(fmt)) >> 10} KiB) on "
                  f"{'Pillow' if backend == 'native' else backend}: {seconds * 1e3:.2f} ms "
                  f"({seconds / results['native']:.2f}x Pillow)")


if __name__ == "__main__":
    main()
