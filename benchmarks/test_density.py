"""Density: many live sandboxes in one process, their resident memory, and that
every one still answers. The count defaults to 10,000 ($SANDBOXLIB_DENSITY)."""

from __future__ import annotations

import os
import resource

from sandboxlib.bench.workloads import workload_library

COUNT = int(os.environ.get("SANDBOXLIB_DENSITY", "10000"))


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def test_ten_thousand_live_sandboxes() -> None:
    lib = workload_library()
    lib.sandbox("wasmtime").close()
    before = resident_bytes()
    boxes = [lib.sandbox("wasmtime") for _ in range(COUNT)]
    per_sandbox = (resident_bytes() - before) / COUNT
    answers = sum(sb.bench_add(i, 1).verify(lambda v: True) == i + 1
                  for i, sb in enumerate(boxes))
    print(f"\n{COUNT} live sandboxes: {per_sandbox / 1024:.1f} KiB resident each; "
          f"{answers} answered correctly")
    assert answers == COUNT
    assert per_sandbox <= 100 * 1024
    for sb in boxes:
        sb.close()
