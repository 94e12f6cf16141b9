"""The processor levels the wasm2c backend builds for (sandboxlib/toolchain/cpu.py): the
level this machine runs, the choice of $SANDBOXLIB_CPU, and the same results from each
level's build as from wasmtime for the wasm operations whose translation differs most
between levels (c_src/cpu_levels/: floating point, bit counts, SIMD)."""

from __future__ import annotations

import math
import platform
import random
import struct
from pathlib import Path
from typing import Any

import pytest
from libs import C_SRC, plain, wrap_package

from sandboxlib import SandboxError
from sandboxlib.toolchain import cpu
from sandboxlib.toolchain.cpu import BASELINE, CPU_ENV, X86_64_V3, machine_level, runs

PROBE = C_SRC / "cpu_levels"
X86_64 = platform.machine() in ("x86_64", "AMD64")
# float bit patterns at the edges of rounding, min/max and conversions
EDGES = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001,
         0x00000001, 0x807FFFFF, 0x3F000000, 0x3FC00000, 0x40200000, 0xC0200000, 0x4F000000,
         0xCF000000, 0xCF000001, 0x4F800000, 0x4EFFFFFF, 0x5F800000, 0x3F7FFFFF]


@pytest.mark.skipif(not X86_64 or not Path("/proc/cpuinfo").is_file(),
                    reason="x86-64 Linux reports its processor's features")
def test_the_level_agrees_with_the_kernels_report() -> None:
    """x86-64-v3 exactly when Linux reports each of its features (it reports the AVX
    ones only where it saves their state) and FSGSBASE (only where user code may use it),
    which the level's build needs for Segue."""
    flags = set(next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split(":", 1)[1].split())
    v3 = {"avx", "avx2", "bmi1", "bmi2", "fma", "f16c", "movbe", "abm", "xsave", "sse4_2",
          "ssse3", "popcnt", "cx16", "lahf_lm", "fsgsbase"}
    assert runs(X86_64_V3) == (v3 <= flags)
    assert machine_level() == (X86_64_V3 if v3 <= flags else BASELINE)


def test_the_environment_chooses_a_level_the_machine_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CPU_ENV, BASELINE)
    assert machine_level() == BASELINE
    monkeypatch.setenv(CPU_ENV, "pentium")
    with pytest.raises(SandboxError, match="not a level"):
        machine_level()
    if X86_64:
        monkeypatch.setattr(cpu, "x86_64_level", lambda: 2)
        monkeypatch.setenv(CPU_ENV, X86_64_V3)
        with pytest.raises(SandboxError, match="does not run it"):
            machine_level()
        monkeypatch.delenv(CPU_ENV)
        assert machine_level() == BASELINE
        monkeypatch.setattr(cpu, "x86_64_level", lambda: 3)
        monkeypatch.setattr(cpu, "user_gs_base", lambda: False)  # a kernel before 5.9
        assert not runs(X86_64_V3) and machine_level() == BASELINE
        monkeypatch.setattr(cpu, "user_gs_base", lambda: True)
        assert runs(X86_64_V3) and machine_level() == X86_64_V3


def float_bits(x: float) -> bytes:
    """``x``'s bits, every NaN as one (wasm leaves a NaN result's sign and payload open)."""
    return struct.pack("<d", math.nan if math.isnan(x) else x)


def results(lib: Any) -> list[Any]:
    """What the probe computes for the edge cases and for random words."""
    rng = random.Random(7)
    words = [*EDGES, *(rng.getrandbits(32) for _ in range(300))]
    blocks = bytes(b for w in words for b in struct.pack("<I", w))
    blocks = blocks[:len(blocks) // 16 * 16]
    got: list[Any] = []
    for a, b, c in [(1 + 2**-30, 1 - 2**-30, -1.0), (0.1, 10.0, -1.0), (1e30, 1e10, -math.inf)]:
        got += [float_bits(plain(lib.levels_muladd(a, b, c))),
                float_bits(plain(lib.levels_muladdf(a, b, c)))]
    with lib.alloc(len(words) * 4) as src, lib.alloc(len(words) * 16) as out:
        src.write(struct.pack(f"<{len(words)}I", *words))
        lib.levels_scalar(src.address, out.address, len(words))
        got.append(plain(out.read(len(words) * 16)))
        src.write(blocks)
        lib.levels_simd(src.address, out.address, len(blocks) // 16)
        got.append(plain(out.read(len(blocks))))
    return got


def contenders() -> list[tuple[str, str]]:
    return [("wasmtime", ""), *(("wasm2c", level) for level in cpu.shipped_levels()
                                if runs(level))]


def test_every_level_computes_what_wasmtime_does(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Each level's build (a package of its own, so its own compiled extension) gives
    wasmtime's results, bit for bit; a multiply then add rounds twice (no FMA)."""
    seen = {}
    for backend, level in contenders():
        if level:
            monkeypatch.setenv(CPU_ENV, level)
        probe = wrap_package(f"levels_{backend}_{level}", PROBE / "levels.h",
                             [PROBE / "levels.c"], tmp_path)
        with probe.sandbox(backend) as lib:
            seen[backend, level] = results(lib)
    reference = seen["wasmtime", ""]
    assert reference[0] == float_bits((1 + 2**-30) * (1 - 2**-30) - 1.0)  # rounded twice
    assert reference[0] == float_bits(0.0)
    for contender, got in seen.items():
        assert got == reference, contender
