"""A wasmtime linker with WASI in which the ungranted ambient capabilities answer
ENOTCAPABLE: used by the wasmtime backend and by pre-initialization (which grants
nothing), so that a library's start-up sees the world its sandboxes see."""

from __future__ import annotations

import wasmtime

from .wasi_calls import CALLS, ENOTCAPABLE, MODULE

_VALTYPES = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64()}


def _deny(*_: object) -> int:
    return ENOTCAPABLE


def wasi_linker(engine: wasmtime.Engine, *, clock: bool, random: bool) -> wasmtime.Linker:
    """WASI for ``engine``, with the clock and randomness only where granted."""
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    linker.allow_shadowing = True
    granted = {"clock": clock, "random": random}
    for name, call in CALLS.items():
        if call.ambient is not None and not granted[call.ambient]:
            ty = call.wasm_type
            linker.define_func(MODULE, name, wasmtime.FuncType(
                [_VALTYPES[p] for p in ty.params], [_VALTYPES[r] for r in ty.results]), _deny)
    return linker
