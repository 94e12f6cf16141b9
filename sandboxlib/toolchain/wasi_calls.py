"""The WASI (preview 1) calls sandboxlib's modules may import: their wasm types,
what grants each, and which are ambient capabilities (clock, randomness) that
answer ENOTCAPABLE unless granted; the rest of preview 1 answers ENOSYS on every
backend. One table for the module check, the wasmtime linker, the wasm2c host and
``sandboxlib inspect``."""

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

ENOSYS = 52  # WASI errno: the function is not supported
# The rest of WASI preview 1: a module may import these (a library's file functions
# often do), and every backend answers each with ENOSYS alike, whatever is granted.
UNSERVED: dict[str, FuncType] = {name: _call(params, _NONE).wasm_type for name, params in {
    "args_get": "ii", "args_sizes_get": "ii", "fd_advise": "iIIi", "fd_allocate": "iII",
    "fd_datasync": "i", "fd_fdstat_set_rights": "iII", "fd_filestat_get": "ii",
    "fd_filestat_set_size": "iI", "fd_filestat_set_times": "iIIi", "fd_pread": "iiiIi",
    "fd_pwrite": "iiiIi", "fd_readdir": "iiiIi", "fd_renumber": "ii", "fd_sync": "i",
    "fd_tell": "ii", "path_create_directory": "iii", "path_filestat_get": "iiiii",
    "path_filestat_set_times": "iiiiIIi", "path_link": "iiiiiii", "path_readlink": "iiiiii",
    "path_remove_directory": "iii", "path_rename": "iiiiii", "path_symlink": "iiiii",
    "path_unlink_file": "iii", "proc_raise": "i", "sched_yield": "", "sock_accept": "iii",
    "sock_recv": "iiiiii", "sock_send": "iiiii", "sock_shutdown": "ii",
}.items()}


def import_type(module: str, name: str) -> FuncType | None:
    """The type a module must import ``module.name`` with, if it is a WASI preview 1
    call (served, or answered ENOSYS), else None."""
    if module != MODULE:
        return None
    return CALLS[name].wasm_type if name in CALLS else UNSERVED.get(name)
