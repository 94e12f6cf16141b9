"""The WASI (preview 1) calls sandboxlib's modules may import: their wasm types,
what grants each, and which are ambient capabilities (clock, randomness) that
answer ENOTCAPABLE unless granted. One table for the wasmtime linker, the wasm2c
host and ``sandboxlib inspect``."""

from __future__ import annotations

from dataclasses import dataclass

from .wasmbinary import FuncType

MODULE = "wasi_snapshot_preview1"
ENOTCAPABLE = 76  # WASI errno returned by capabilities that were not granted


@dataclass(frozen=True)
class WasiCall:
    wasm_type: FuncType
    granted_by: str  # for `sandboxlib inspect`
    ambient: str | None = None  # "clock" or "random": denied unless that grant is given


def _call(params: str, granted_by: str, ambient: str | None = None,
          returns: bool = True) -> WasiCall:
    """``params``: one letter per parameter, i for i32 and I for i64; every call but
    proc_exit returns an errno (i32)."""
    return WasiCall(FuncType(tuple("i64" if c == "I" else "i32" for c in params),
                             ("i32",) if returns else ()), granted_by, ambient)


_NONE = "nothing (fails safely without a grant)"
CALLS: dict[str, WasiCall] = {
    "fd_write": _call("iiii", "stdout/stderr or a writable directory"),
    "fd_read": _call("iiii", "stdin or a directory"),
    "fd_close": _call("i", _NONE),
    "fd_seek": _call("iIii", _NONE),
    "fd_fdstat_get": _call("ii", _NONE),
    "fd_fdstat_set_flags": _call("ii", _NONE),
    "fd_prestat_get": _call("ii", "a preopened directory"),
    "fd_prestat_dir_name": _call("iii", "a preopened directory"),
    "path_open": _call("iiiiiIIii", "a preopened directory"),
    "environ_get": _call("ii", "environment variables"),
    "environ_sizes_get": _call("ii", "environment variables"),
    "clock_time_get": _call("iIi", "clock", "clock"),
    "clock_res_get": _call("ii", "clock", "clock"),
    "poll_oneoff": _call("iiii", "clock", "clock"),
    "random_get": _call("ii", "random", "random"),
    "proc_exit": _call("i", "(exit: traps the sandbox)", returns=False),
}
