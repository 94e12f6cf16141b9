"""The workloads measured: a trivial call, a string in and out, a callback round
trip, creating a sandbox; each runnable on any backend and on raw baselines."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any, Callable

from ..abi import FuncPtr, Function, Prim, Ptr, Signature
from ..library import Library
from ..proxy import LibraryProxy, c_function
from ..runtime.structs import Struct
from ..toolchain.cache import build_entry, content_key
from .timing import Op

HERE = Path(__file__).resolve().parent
CALLBACK = Signature((Prim.INT,), Prim.INT, ("v",))
FUNCTIONS = (
    Function("bench_add", Signature((Prim.INT, Prim.INT), Prim.INT, ("a", "b"))),
    Function("bench_echo", Signature((Ptr("char", const=True), Ptr("char"), Prim.ULONG),
                                     Prim.ULONG, ("in", "out", "cap"))),
    Function("bench_call_back", Signature((FuncPtr(CALLBACK), Prim.INT), Prim.INT, ("cb", "v"))),
)


@cache
def workload_library() -> Library:
    return Library("bench_workload", FUNCTIONS, sources=(HERE / "workload.c",),
                   headers=(HERE / "workload.h",))


class BenchPoint(Struct):
    _fields_ = (("x", Prim.INT), ("y", Prim.INT))


class BenchShape(Struct):
    _fields_ = (("id", Prim.INT), ("origin", BenchPoint))


class BenchProxy(LibraryProxy):
    """A proxy as the generator writes one, for the method kept before the first call."""

    @c_function("bench_add")
    def bench_add(self, a: int, b: int, /) -> Any:
        return self._bind("bench_add")(a, b)


MESSAGE = b"a 64-byte argument: bytes in, the same string copied back out!!"[:63]


def call_ops(backend: str) -> tuple[dict[str, Op], Callable[[], None]]:
    """Per-call operations on a sandbox of ``backend``, and a function closing it."""
    sb = workload_library().sandbox(backend)
    add, echo, call_back = sb.bench_add, sb.bench_echo, sb.bench_call_back
    out = sb.alloc(64)
    cb = sb.callback(lambda v: v.verify_range(-1000, 1000) * 2, CALLBACK, "double")
    shape = BenchShape(sb, sb.copy_in(bytes(BenchShape.sizeof(sb.model))).address)

    kept = BenchProxy(sb).bench_add  # read before its first call
    proxy = LibraryProxy(sb)
    cell = proxy.out(Prim.INT)

    def out_free() -> None:
        proxy.out(Prim.INT).free()

    def alloc_free() -> None:
        proxy.alloc(16).free()

    def write_field() -> None:
        shape.id = 7  # type: ignore[attr-defined]  # fields are made at run time

    def string_in_out() -> object:  # 63 bytes and the NUL the copy adds: 64 in
        n = echo(MESSAGE, out, 64).verify_range(0, 63)
        return out.read(n)

    ops: dict[str, Op] = {
        "call_trivial": lambda: add(2, 3),
        "call_bytes_in_string_out": string_in_out,
        "callback_round_trip": lambda: call_back(cb, 20),
        "struct_field_read": lambda: shape.id,  # type: ignore[attr-defined]
        "struct_field_write": write_field,
        "struct_field_nested_read": lambda: shape.origin.y,  # type: ignore[attr-defined]
        "call_kept_method": lambda: kept(2, 3),
        "helper_out_free": out_free,
        "helper_out_value": lambda: cell.value,
        "helper_alloc_free": alloc_free,
    }
    return ops, sb.close


def raw_cffi_op() -> Op:
    """The reference: the native function called directly through cffi."""
    from ..backends.native import native_module
    add = native_module(workload_library()).lib.bench_add
    return lambda: add(2, 3)


def raw_wasmtime_ops() -> dict[str, Op]:
    """What a user writes without sandboxlib: wasmtime-py driven by hand."""
    import wasmtime
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(workload_library().built_module()))
    linker = wasmtime.Linker(engine)
    linker.define_wasi()

    def instantiate() -> tuple[wasmtime.Store, Any]:
        store = wasmtime.Store(engine)
        store.set_wasi(wasmtime.WasiConfig())
        instance = linker.instantiate(store, module)
        init = instance.exports(store)["_initialize"]
        assert isinstance(init, wasmtime.Func)
        init(store)
        return store, instance

    store, instance = instantiate()
    add = instance.exports(store)["bench_add"]
    assert isinstance(add, wasmtime.Func)
    return {"call_trivial": lambda: add(store, 2, 3), "sandbox_create": instantiate}


def create_op(backend: str) -> Op:
    lib = workload_library()
    return lambda: lib.sandbox(backend).close()


def first_call_op(backend: str) -> Op:
    """What a sandbox per request costs: a new sandbox, its first call, closing it."""
    lib = workload_library()

    def op() -> None:
        sb = lib.sandbox(backend)
        sb.bench_add(2, 3)
        sb.close()
    return op


@cache
def spawn_helper() -> Path:
    """A native helper program doing the trivial work (the process-per-call baseline)."""
    cmd = [shutil.which("cc") or "gcc", "-O2", str(HERE / "spawn_helper.c"), "-o"]
    key = content_key("bench", [HERE / "spawn_helper.c"], [], cmd)

    def build(tmp: Path) -> None:
        subprocess.run([*cmd, str(tmp / "spawn_helper")], check=True)
    return build_entry("bench", key, "spawn_helper", build) / "spawn_helper"


def spawn_op() -> Op:
    exe = str(spawn_helper())
    return lambda: subprocess.run([exe, "2", "3"], capture_output=True, check=True)
