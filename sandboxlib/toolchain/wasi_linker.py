"""A wasmtime linker with WASI in which the ungranted ambient capabilities answer
ENOTCAPABLE: used by the wasmtime backend and by pre-initialization (which grants
nothing), so that a library's start-up sees the world its sandboxes see."""

from __future__ import annotations

import wasmtime

ENOTCAPABLE = 76  # WASI errno returned by capabilities that were not granted

_I32, _I64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
DENIABLE = {
    # WASI calls reachable without any preopen or inherited stream: clocks and
    # randomness. Replaced by stubs returning ENOTCAPABLE unless granted.
    "clock": [("clock_time_get", [_I32, _I64, _I32]), ("clock_res_get", [_I32, _I32]),
              ("poll_oneoff", [_I32, _I32, _I32, _I32])],
    "random": [("random_get", [_I32, _I32])],
}


def _deny(*_: object) -> int:
    return ENOTCAPABLE


def wasi_linker(engine: wasmtime.Engine, *, clock: bool, random: bool) -> wasmtime.Linker:
    """WASI for ``engine``, with the clock and randomness only where granted."""
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    linker.allow_shadowing = True
    for capability, granted in (("clock", clock), ("random", random)):
        if not granted:
            for name, params in DENIABLE[capability]:
                linker.define_func("wasi_snapshot_preview1", name,
                                   wasmtime.FuncType(params, [_I32]), _deny)
    return linker
