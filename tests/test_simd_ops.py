"""Every wasm SIMD instruction (c_src/simd_ops/) computes on wasm2c, built for each
processor level this machine runs, what it computes on wasmtime, bit for bit, over edge
values and random ones: wasm2c compiles the instructions through SIMDe's x86 code
(backends/wasm2c/csrc/simd.h replaces the functions of it that compute something else)."""

from __future__ import annotations

import itertools
import operator
import random
import struct
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libs import C_SRC, P, fn, plain, wrap_package

from sandboxlib import BuildError, Library
from sandboxlib.toolchain import cpu
from sandboxlib.toolchain.cpu import CPU_ENV, runs

PROBE = C_SRC / "simd_ops"
MASK64 = 2**64 - 1
# integer lanes (reduced to each width): saturation, narrowing, shift, swizzle and sign edges
INTS = [0, 1, 2, 3, -1, -2, 7, 8, 15, 16, 17, 31, 32, 63, 64, 127, 128, 129, -127, -128,
        -129, 255, 256, -255, -256, 0x4000, 32767, 32768, -32767, -32768, -32769, 65535,
        65536, 2**31 - 1, 2**31, -2**31 + 1, -2**31, -2**31 - 1, 2**32 - 1, 2**32,
        2**62, 2**63 - 1, -2**63, 0x5555555555555555, 0xAAAAAAAAAAAAAAAA]
# floats: rounding ties, conversion bounds, signed zeros, subnormals, infinities
FLOATS = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, 1.0, -1.0, -0.99999994,
          3.5, 8388607.5, 8388608.0, 8388609.0, 16777216.0, 2**31 - 128.0, 2**31 - 1.0,
          2**31 - 0.5, 2.0**31, -2.0**31, -2**31 - 1.0, -2**31 - 0.5, -2**31 - 256.0,
          2**32 - 256.0, 2**32 - 1.0, 2**32 - 0.5, 2.0**32, 2**52 - 0.5, 2.0**52,
          2**52 + 1.0, 2.0**53, 2.0**63, -2.0**63, 2.0**64, 1e30, -1e30, 1e300, -1e300,
          3.4028234663852886e38, 3.4028235677973366e38, 3.4028235677973362e38, 1e39,
          1.1754943508222875e-38, 1.401298464324817e-45, 7.006492321624085e-46,
          1.0000000596046448, 1.0000001788139343, 1.7976931348623157e308,
          2.2250738585072014e-308, 5e-324, -5e-324, float("inf"), float("-inf")]
NANS32 = [0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FC12345, 0x7FBFFFFF]
NANS64 = [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FF8000000012345,
          0x7FF4000000000000, 0xFFF0000000000001]
F32 = [struct.unpack("<I", struct.pack("<f", x))[0] for x in FLOATS
       if abs(x) <= 3.4028234663852886e38 or abs(x) == float("inf")] + NANS32 + [1, 0x807FFFFF]
F64 = [struct.unpack("<Q", struct.pack("<d", x))[0] for x in FLOATS] + NANS64
# lane size in bytes -> edge values
EDGES = {1: INTS, 2: INTS, 4: [*INTS, *F32], 8: [*INTS, *F64]}
# the float ops whose NaN results wasm leaves open (sign and payload), by result lanes
ARITHMETIC = {"add", "sub", "mul", "div", "min", "max", "sqrt", "ceil", "floor", "trunc",
              "nearest", "demote_f64x2_zero", "promote_low_f32x4"}


def lanes(size: int, values: list[int]) -> bytes:
    return b"".join((v % 2**(8 * size)).to_bytes(size, "little") for v in values)


def blocks(rng: random.Random) -> list[bytes]:
    """16-byte blocks of edge lanes (each size), of random bits, and of one lane unlike
    the others (bitmasks, all_true)."""
    got = []
    for size, edges in EDGES.items():
        for _ in range(250):
            got.append(lanes(size, [rng.choice(edges) if rng.random() < 0.8
                                    else rng.getrandbits(64) for _ in range(16 // size)]))
        for lane in range(16 // size):
            for fill, odd in ((0, -1), (-1, 0), (0, 1), (1, 2**63)):
                got.append(lanes(size, [odd if i == lane else fill for i in range(16 // size)]))
    return [*got, *(rng.randbytes(16) for _ in range(250))]


def pairs(which: int) -> list[bytes]:
    """Blocks of the first (0) or second (1) of each pair of edge lanes of each size."""
    got = []
    for size, edges in EDGES.items():
        values = [pair[which] for pair in itertools.product(edges, repeat=2)]
        values += [0] * (-len(values) % (16 // size))
        got += [lanes(size, values[i:i + 16 // size]) for i in range(0, len(values), 16 // size)]
    return got


def scalars(rng: random.Random, n: int) -> list[int]:
    """Shift counts from 0 to 140, then edge lanes of each size and random words."""
    edges = [*INTS, *F32, *F64, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFF, 0x1_0000_0021]
    return [*range(141), *(rng.choice(edges) if rng.random() < 0.8 else rng.getrandbits(64)
                           for _ in range(n - 141))]


def canonical(name: str, data: bytes) -> bytes:
    """``data``, the results of ``name``, with each quiet NaN lane as one NaN where wasm
    leaves a NaN's sign and payload open (float arithmetic; not abs, neg, pmin, pmax,
    lanes); a signalling NaN result stays (wasm's NaN results are quiet)."""
    shape, _, op = name.partition("_")
    if shape not in ("f32x4", "f64x2") or op not in ARITHMETIC:
        return data
    fmt, quiet = ("<I", 0x1FF << 22) if shape == "f32x4" else ("<Q", 0xFFF << 51)
    size = struct.calcsize(fmt)
    out = bytearray(data)
    for at in range(0, len(data), size):
        if struct.unpack_from(fmt, data, at)[0] & quiet == quiet:  # exponent and quiet bit
            struct.pack_into(fmt, out, at, quiet)
    return bytes(out)


class Probe:
    """The probe library on one contender: each op of each group over the inputs."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        with lib.alloc(8192) as buf:
            text = plain(buf.read(plain(lib.simd_names(buf.address, 8192)))).decode()
        self.groups = {group: names.split() for group, names in
                       (line.split(":") for line in text.splitlines())}

    def run(self, group: str, inputs: list[bytes], n: int) -> Iterator[tuple[str, bytes]]:
        """(name, results) of each op of ``group`` on ``inputs`` (n items each)."""
        lib, size = self.lib, 8 if group == "scalar_out" else 16
        with ExitStack() as stack:
            addresses = []
            for data in inputs:
                alloc = stack.enter_context(lib.alloc(len(data)))
                alloc.write(data)
                addresses.append(alloc.address)
            out = stack.enter_context(lib.alloc(size * n))
            call = getattr(lib, f"simd_{group}")
            for op, name in enumerate(self.groups[group]):
                call(op, *addresses, out.address, n)
                yield name, canonical(name, plain(out.read(size * n)))


def contenders() -> list[tuple[str, str]]:
    return [("wasmtime", ""), *(("wasm2c", level) for level in cpu.shipped_levels()
                                if runs(level))]


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """The probe wrapped once per contender (a package of its own, so its own extension)."""
    out = tmp_path_factory.mktemp("simd_ops")
    return {(backend, level): wrap_package(f"simd_ops_{backend}_{level}", PROBE / "ops.h",
                                           [PROBE / "ops.c"], out)
            for backend, level in contenders()}


def inputs(group: str) -> tuple[list[bytes], int]:
    """The buffers ``group``'s ops take, and how many items each holds."""
    rng = random.Random(2024)
    base = blocks(rng)
    n = len(base)
    if group == "vector":  # each block with the next, with itself, each edge with each
        a, b = [*base, *base, *pairs(0)], [*base[1:], base[0], *base, *pairs(1)]
        return [b"".join(a), b"".join(b), b"".join(rng.sample(a, len(a)))], len(a)
    if group == "scalar_in":
        return [b"".join(base), struct.pack(f"<{n}Q", *(s & MASK64 for s in scalars(rng, n)))], n
    return [b"".join(base)], n


@contextmanager
def opened(probes: dict[tuple[str, str], Any],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], Probe]]:
    """A sandbox of each contender's probe, open: wasm2c's at its level (the level
    ``$SANDBOXLIB_CPU`` names when its package first loads its module)."""
    with ExitStack() as stack:
        sandboxes = {}
        for (backend, level), package in probes.items():
            if level:
                monkeypatch.setenv(CPU_ENV, level)
            sandboxes[backend, level] = Probe(stack.enter_context(package.sandbox(backend)))
        yield sandboxes


def differences(sandboxes: dict[tuple[str, str], Probe], group: str, data: list[bytes],
                n: int) -> list[str]:
    """Each op of ``group`` whose results on a wasm2c level differ from wasmtime's."""
    seen = {key: dict(probe.run(group, data, n)) for key, probe in sandboxes.items()}
    reference = seen.pop(("wasmtime", ""))
    assert len(reference) > 8
    return [f"{level}: {name} {first_difference(group, data, got[name], want)}"
            for (_, level), got in seen.items()
            for name, want in reference.items() if got[name] != want]


@pytest.mark.parametrize("group", ["vector", "scalar_in", "scalar_out", "memory"])
def test_every_simd_op_computes_what_wasmtime_does(probes: dict[tuple[str, str], Any],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   group: str) -> None:
    data, n = inputs(group)
    with opened(probes, monkeypatch) as sandboxes:
        wrong = differences(sandboxes, group, data, n)
    assert not wrong, "\n".join(wrong)


def lane_blocks(size: int) -> st.SearchStrategy[bytes]:
    """Blocks of ``size``-byte lanes: edge values or their neighbours (bits, so floats a
    few ulps off), any integer, or (4 and 8 bytes) the bits of any float."""
    near = st.builds(operator.add, st.sampled_from(EDGES[size]), st.integers(-3, 3))
    lane = st.one_of(near, st.integers(0, 2**(8 * size) - 1))
    if size > 2:
        fmt = "<f" if size == 4 else "<d"
        floats = st.floats(width=32 if size == 4 else 64)
        lane |= floats.map(lambda x: int.from_bytes(struct.pack(fmt, x), "little"))
    return st.lists(lane, min_size=16 // size, max_size=16 // size).map(
        lambda values: lanes(size, values))


BLOCK = st.sampled_from([4, 8, 2, 1]).flatmap(lane_blocks)
SCALAR = st.one_of(st.sampled_from([*INTS, *F32, *F64]), st.integers(0, 200),
                   st.integers(0, MASK64))


def test_drawn_operands_compute_what_wasmtime_does(probes: dict[tuple[str, str], Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Hypothesis's blocks of edge and random lanes through every op but the memory
    group's."""
    with opened(probes, monkeypatch) as sandboxes:

        @settings(max_examples=100, deadline=None, database=None)
        @given(st.lists(st.tuples(BLOCK, BLOCK, BLOCK, SCALAR), min_size=1, max_size=24))
        def check(items: list[tuple[bytes, bytes, bytes, int]]) -> None:
            a, b, c, s = zip(*items)
            vectors = [b"".join(a), b"".join(b), b"".join(c)]
            words = [vectors[0], struct.pack(f"<{len(s)}Q", *(x & MASK64 for x in s))]
            wrong = [*differences(sandboxes, "vector", vectors, len(items)),
                     *differences(sandboxes, "scalar_in", words, len(items)),
                     *differences(sandboxes, "scalar_out", vectors[:1], len(items))]
            assert not wrong, "\n".join(wrong)

        check()


def first_difference(group: str, data: list[bytes], got: bytes, want: bytes) -> str:
    """The inputs of the first item whose result differs, with both results."""
    size = 8 if group == "scalar_out" else 16
    i = next(i for i in range(0, len(got), size) if got[i:i + size] != want[i:i + size])
    item = i // size
    operands = [d[16 * item:16 * item + 16].hex() for d in data[:3 if group == "vector" else 1]]
    if group == "scalar_in":
        operands.append(data[1][8 * item:8 * item + 8][::-1].hex())
    return (f"({sum(got[j:j + size] != want[j:j + size] for j in range(0, len(got), size))}"
            f" differ) inputs {' '.join(operands)}: got {got[i:i + size].hex()}, "
            f"wasm {want[i:i + size].hex()}")


def test_relaxed_simd_runs_on_wasmtime_and_is_refused_by_wasm2c() -> None:
    """Relaxed SIMD, which the toolchain emits only when asked (-mrelaxed-simd): wasmtime
    runs it; wasm2c (wabt 1.0.42) aborts on its instructions, so the build fails with
    BuildError rather than running them. When this fails, wasm2c translates relaxed SIMD:
    add its instructions to c_src/simd_ops/ops.c."""
    lib = Library("simd_relaxed", functions=(fn("relaxed_trunc_u", P.UINT, ("bits", P.UINT)),),
                  sources=(PROBE / "relaxed.c",), cflags=("-mrelaxed-simd",))
    with lib.sandbox("wasmtime") as sb:
        assert plain(sb.relaxed_trunc_u(0x4F400000)) == 3 << 30  # 3 * 2^30, in range
    with pytest.raises(BuildError, match="wasm2c failed"):
        lib.sandbox("wasm2c")
