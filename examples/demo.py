"""sandboxlib end to end: build the sample C library, run it sandboxed and native.

Run with ``make demo``. Every step is real: the C sources in c_src/ are compiled to
wasm32 with the pip-installed zig compiler and natively with cffi.
"""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from libs import hostile_library, sample_library  # noqa: E402

from sandboxlib import Library, Prim, Sandbox, Signature, Tainted, TrapError  # noqa: E402

BACKENDS = ("wasmtime", "native")


def shown(value: Any) -> str:
    if isinstance(value, Tainted):
        value = value.unverified_safe_because("printed by the demo")
    return repr(value)


def per_call_us(fn: Callable[[], object], seconds: float = 0.3) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            fn()
        n += 200
    return (time.perf_counter() - start) / n * 1e6


def sample_calls(sb: Sandbox) -> list[tuple[str, str]]:
    data = bytes(range(256)) * 256
    greeting = sb.sample_greet("world")
    values = sb.copy_in(struct.pack("=5i", 1, 2, 3, 4, 5))
    multiply = sb.callback(lambda a, b: a.verify(lambda v: abs(v) < 1 << 20) *
                           b.verify(lambda v: abs(v) < 1 << 20),
                           Signature((Prim.INT, Prim.INT), Prim.INT), "multiply")
    return [
        ("sample_add(2, 3)", shown(sb.sample_add(2, 3))),
        ("sample_inc_u32(0xffffffff)", shown(sb.sample_inc_u32(0xFFFFFFFF))),
        ("sample_hypot(3.0, 4.0)", shown(sb.sample_hypot(3.0, 4.0))),
        ('sample_greet("world")', shown(greeting.copy_string(max_len=100))),
        ("sample_checksum(64 KiB)", shown(sb.sample_checksum(data, len(data)))),
        ("sample_fold([1..5], multiply)", shown(sb.sample_fold(values, 5, multiply, 1))),
        ("sizeof(long) in the library", str(sb.model.size(Prim.LONG))),
    ]


def main() -> None:
    lib = sample_library()
    print("sandboxlib demo: the sample C library (c_src/sample), sandboxed and native\n")
    rows: dict[str, list[tuple[str, str]]] = {}
    timing: dict[str, tuple[float, float]] = {}
    for backend in BACKENDS:
        with lib.sandbox(backend) as sb:
            rows[backend] = sample_calls(sb)
            add = sb.sample_add
            call = per_call_us(lambda: add(2, 3))
        create = per_call_us(lambda: lib.sandbox(backend).close())
        timing[backend] = (call, create)
    width = max(len(name) for name, _ in rows[BACKENDS[0]]) + 2
    print(f"{'call':<{width}}" + "".join(f"{b:<22}" for b in BACKENDS))
    for i, (name, _) in enumerate(rows[BACKENDS[0]]):
        print(f"{name:<{width}}" + "".join(f"{rows[b][i][1]:<22}" for b in BACKENDS))
    print()
    print(f"{'trivial call, µs':<{width}}" + "".join(f"{timing[b][0]:<22.2f}" for b in BACKENDS))
    print(f"{'new sandbox, µs':<{width}}" + "".join(f"{timing[b][1]:<22.1f}" for b in BACKENDS))
    containment(hostile_library())


def containment(lib: Library) -> None:
    print("\ncontainment: a hostile library reads far outside its memory")
    with lib.sandbox("wasmtime") as victim, lib.sandbox("wasmtime") as bystander:
        try:
            victim.hostile_read_far(0xFFFFFFF0)
        except TrapError as exc:
            print(f"  sandbox 1: TrapError: {exc}")
        print(f"  sandbox 1 is now poisoned: {victim.poisoned is not None}")
        print(f"  sandbox 2 still answers hostile_ok(21) = {shown(bystander.hostile_ok(21))}")
        print("  the host process is unharmed")


if __name__ == "__main__":
    main()
