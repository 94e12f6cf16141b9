"""A wasmtime linker with WASI in which the ungranted ambient capabilities answer
ENOTCAPABLE and the calls sandboxlib does not serve ENOSYS (as on wasm2c): used by the
wasmtime backend and by pre-initialization (which grants nothing), so that a library's
start-up sees the world its sandboxes see."""

from __future__ import annotations

from collections.abc import Callable

import wasmtime

from .wasi_calls import CALLS, ENOSYS, ENOTCAPABLE, MODULE, UNSERVED
from .wasmbinary import FuncType

_VALTYPES = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64()}


def _deny(*_: object) -> int:
    return ENOTCAPABLE


def _nosys(*_: object) -> int:
    return ENOSYS


def wasi_linker(engine: wasmtime.Engine, *, clock: bool, random: bool) -> wasmtime.Linker:
    """WASI for ``engine``, with the clock and randomness only where granted."""
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    linker.allow_shadowing = True
    granted = {"clock": clock, "random": random}
    for name, call in CALLS.items():
        if call.ambient is not None and not granted[call.ambient]:
            _answer(linker, name, call.wasm_type, _deny)
    for name, ty in UNSERVED.items():
        _answer(linker, name, ty, _nosys)
    return linker


def _answer(linker: wasmtime.Linker, name: str, ty: FuncType, fn: Callable[..., int]) -> None:
    linker.define_func(MODULE, name, wasmtime.FuncType(
        [_VALTYPES[p] for p in ty.params], [_VALTYPES[r] for r in ty.results]), fn)
