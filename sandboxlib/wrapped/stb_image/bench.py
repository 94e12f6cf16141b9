"""Decode a 1024x768 JPEG: sandboxed stb_image on each isolating backend against the
same C built natively (SSE2 paths in both: the wasm build has them as wasm SIMD),
measured interleaved in one run. The JPEG is made by stb_image_write from a synthetic
image (``shim/encode.c``, built natively).

``workload`` adds ``jpeg_decode_1024x768`` to ``sandboxlib bench``;
``python -m sandboxlib.wrapped.stb_image.bench`` prints it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from sandboxlib import Function, Library, Prim, Ptr, Signature
from sandboxlib.bench import ISOLATING, Record, interleaved_medians
from sandboxlib.bench.plugins import Case
from sandboxlib.toolchain.fetch import fetch_pin
from sandboxlib.toolchain.pins import PINS

import sandboxlib.wrapped.stb_image as stb

SHIM = Path(__file__).with_name("shim")
ENCODE = Function("encode_test_jpeg", Signature(
    (Prim.INT, Prim.INT, Prim.INT, Ptr("unsigned char"), Prim.INT), Prim.INT,
    ("width", "height", "quality", "out", "cap")))


@functools.cache
def sample_jpeg(width: int = 1024, height: int = 768, quality: int = 90) -> bytes:
    """A photo-like JPEG of ``width`` x ``height`` (made natively, once per process)."""
    encoder = Library("stb_encode", (ENCODE,), sources=(SHIM / "encode.c",),
                      include_dirs=(fetch_pin(PINS["stb"]),))
    cap = width * height * 3 + 4096
    with encoder.sandbox("native") as sb, sb.alloc(cap) as out:
        size = sb.encode_test_jpeg(width, height, quality, out, cap).verify_range(1, cap)
        data: bytes = out.read(size).verify(lambda b: b[:2] == b"\xff\xd8")
        return data


def bench_decode(rounds: int = 9) -> dict[str, float]:
    """Median seconds per decode: each isolating backend and "native" (the native
    backend: the same C, unsandboxed)."""
    jpeg = sample_jpeg()
    expected = stb.decode(jpeg, backend="native")
    for backend in ISOLATING:  # warm-up (builds) and a check
        if stb.decode(jpeg, backend=backend) != expected:
            raise AssertionError(f"{backend}: pixels differ from the native build's")
    return interleaved_medians({b: functools.partial(stb.decode, jpeg, backend=b)
                                for b in ["native", *ISOLATING]}, rounds)


def workload(record: Record, quick: bool) -> None:
    """``sandboxlib bench``: ``jpeg_decode_1024x768`` on each backend."""
    for backend, seconds in bench_decode(rounds=3 if quick else 9).items():
        record("jpeg_decode_1024x768", backend, seconds, "ms")


def main() -> None:
    results = bench_decode()
    for backend, seconds in results.items():
        print(f"decode a 1024x768 JPEG on {backend}: {seconds * 1e3:.2f} ms "
              f"({seconds / results['native']:.2f}x native)")


def corpus_case() -> Case:
    """``sandboxlib bench --corpus``: decode the 1024x768 JPEG, the native backend the
    baseline."""
    def prepare(backend: str, stack: ExitStack) -> Callable[[], stb.Image]:
        return functools.partial(stb.decode, sample_jpeg(), backend=backend)
    return Case("jpeg_decode_1024x768", "stb_image 2.27: decode a 1024x768 JPEG (SSE2 paths "
                "in both builds)", prepare)


if __name__ == "__main__":
    main()
