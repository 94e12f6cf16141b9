"""The compiled boundary (sandboxlib/_boundary.c) against the rules it speeds up:
for any value, a compiled caller accepts exactly what the sandbox's Python
converter for that parameter accepts, passes the same machine value, and refuses
with the converter's own error; on every backend, the native one included."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libs import H, packages, plain, sample_library  # noqa: F401 fixtures

from sandboxlib import (ArgumentError, Function, FuncPtr, Prim, Ptr, SandboxError, Signature,
                        Tainted, TaintedPtr)
from sandboxlib.runtime.structs import FieldType, Struct
from sandboxlib.runtime.marshal import converter
from sandboxlib.runtime.sandbox import Sandbox

CB = Signature((Prim.INT,), Prim.INT, ("v",))


class Point(Struct):
    _fields_ = (("x", Prim.INT), ("y", Prim.INT))


FEW = settings(max_examples=150, deadline=None, database=None)
ECHOES = ("i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "long", "ulong", "size",
          "char", "bool", "float", "double", "ptr")


def outcome(fn: Callable[..., Any], *args: object) -> Any:
    try:
        return fn(*args)
    except SandboxError as exc:
        return exc


def edges(sb: Sandbox, other: Sandbox) -> list[object]:
    """Every range boundary of every C type, as ints, floats, bools and pointers."""
    ints = [0, 1, -1]
    for bits in (7, 8, 15, 16, 31, 32, 63, 64):
        ints += [2**bits - 1, 2**bits, -2**bits, -2**bits - 1, -2**bits + 1]
    freed = sb.alloc(8)
    freed.free()
    handles = [sb.callback(lambda v: v, CB), other.callback(lambda v: v, CB),
               sb.callback(lambda v: v, CB)]
    handles[2].unregister()
    return [*ints, True, False, None, 3.4028234663852886e38, 3.5e38, -3.5e38, math.inf,
            math.nan, 1.0, *(TaintedPtr(a, sb.memory, "own") for a in ints),
            TaintedPtr(16, other.memory, "other"), b"", "x", Tainted(1), sb.alloc(8), freed,
            other.alloc(8), *handles, Point(sb, 16), Point(other, 16)]


def values(sb: Sandbox, other: Sandbox) -> st.SearchStrategy[object]:
    """Values of every kind a caller may be given, near every boundary."""
    return st.one_of(
        st.sampled_from(edges(sb, other)), st.integers(-2**70, 2**70), st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True), st.none(), st.binary(max_size=8),
        st.text(max_size=4), st.builds(Tainted, st.integers()),
        st.integers(-2**33, 2**33).map(lambda a: TaintedPtr(a, sb.memory, "own")),
        st.integers(0, 2**32 - 1).map(lambda a: TaintedPtr(a, other.memory, "other")),
        st.just(TaintedPtr(2**64, sb.memory, "huge")), st.just([1]), st.just(object()))


Case = tuple[Function, Callable[..., Any], Any]  # the function, its caller, its converter


def cases(sb: Sandbox, functions: list[Function]) -> list[Case]:
    """Each function's compiled caller beside the Python converter of its parameter."""
    return [(fn, sb.bind(fn), converter(fn.sig.params[0], sb, f"{fn.name}(): argument 1 "
                                        f"'{fn.sig.name_of(0)}'")) for fn in functions]


def outcomes(case: Case, value: object) -> tuple[Any, Any]:
    """(what the converter makes of ``value``, what the caller returns); when the
    converter refuses it, the caller must refuse it with the same error (then both
    are that error)."""
    fn, call, convert = case
    want, got = outcome(convert, value, []), outcome(call, value)
    if isinstance(want, SandboxError):
        assert type(got) is type(want) and str(got) == str(want), (fn.name, value)
    return want, got


def every_edge_then_random(check: Any, all_cases: list[Case], sb: Sandbox,
                           other: Sandbox) -> None:
    """``check`` on every case with every edge value, then on hypothesis's draws."""
    for case in all_cases:
        for value in edges(sb, other):
            check.hypothesis.inner_test(case, value)
    check()


def test_a_compiled_caller_accepts_exactly_what_its_converter_accepts(
        H: ModuleType, isolating_backend: str) -> None:
    functions = {fn.name: fn for fn in H.FUNCTIONS}
    with H.sandbox(isolating_backend) as proxy, H.sandbox(isolating_backend) as proxy2:
        sb, other = proxy.sandbox, proxy2.sandbox
        echoes = cases(sb, [functions[f"hostile_echo_{t}"] for t in ECHOES]
                       + [functions["hostile_store_cb"]])

        @FEW
        @given(st.sampled_from(echoes), values(sb, other))
        def check(echo: Case, value: object) -> None:
            want, got = outcomes(echo, value)
            if isinstance(want, SandboxError):
                return
            fn = echo[0]
            t = fn.sig.params[0]
            if fn.sig.result is Prim.VOID:  # a function pointer: stored, nothing comes back
                assert got is None, (fn.name, value, got)
                return
            assert isinstance(got, Tainted), (fn.name, value, got)
            value_out = plain(got)
            if isinstance(t, Ptr):
                assert isinstance(got, TaintedPtr) and got.belongs_to(sb.memory)
                assert value_out == want
            elif t is Prim.BOOL:
                assert value_out is (want != 0)
            elif isinstance(t, Prim) and t.is_float:
                if t is Prim.FLOAT:  # what a C float holds of it
                    want = struct.unpack("<f", struct.pack("<f", want))[0]
                assert value_out == want or (math.isnan(value_out) and math.isnan(want))
            else:
                assert value_out == want
        every_edge_then_random(check, echoes, sb, other)
        assert sb.poisoned is None


INCREMENTS = ("i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64")


def test_native_integers_of_every_width_take_the_same_checks() -> None:
    """The native backend's ranges are the host's (64-bit long, pointers); its
    fast path is checked the same way on the sample's increment functions."""
    lib = sample_library()
    with lib.sandbox("native") as sb, lib.sandbox("native") as other:
        increments = cases(sb, [lib.function(f"sample_inc_{name}") for name in INCREMENTS])

        @FEW
        @given(st.sampled_from(increments), values(sb, other))
        def check(case: Case, value: object) -> None:
            want, got = outcomes(case, value)
            if isinstance(want, SandboxError):
                return
            fn = case[0]
            t = fn.sig.result
            assert isinstance(t, Prim)
            bits = 8 * sb.model.size(t)
            wrapped = (want + 1) & ((1 << bits) - 1)
            if sb.model.is_signed(t) and wrapped >> (bits - 1):
                wrapped -= 1 << bits
            assert plain(got) == wrapped, (fn.name, value)
        every_edge_then_random(check, increments, sb, other)


@pytest.mark.parametrize("backend", ["native", "wasmtime", "wasm2c"])
def test_arity_keywords_and_a_closed_sandbox(backend: str) -> None:
    with sample_library().sandbox(backend) as sb:
        add = sb.sample_add
        with pytest.raises(ArgumentError, match=r"sample_add\(\) takes 2 argument\(s\), got 3"):
            add(1, 2, 3)
        with pytest.raises(TypeError):
            add(1, b=2)
        assert "sample_add" in repr(add) and add.__name__ == "sample_add"
    with pytest.raises(SandboxError, match="closed"):
        add(1, 2)



def test_compiled_memory_access_agrees_with_the_checked_python_path(
        isolating_backend: str) -> None:
    """``Memory.read``/``write``/``read_cstring`` run compiled when in bounds; for any
    span they give what the Python path gives, or its error."""
    with sample_library().sandbox(isolating_backend) as sb:
        memory = sb.memory
        size = memory.size
        text = sb.copy_in(b"sandboxed\0")
        spans = st.one_of(st.integers(-2, 2**64 + 2), st.sampled_from(
            [0, 1, text.address, text.address + 9, size - 1, size, size + 1, 2**32, -1]))
        lengths = st.one_of(st.integers(-2, 2**33), st.sampled_from([0, 1, 8, 9, 10, size]))

        @FEW
        @given(spans, lengths, st.binary(max_size=16))
        def check(address: int, length: int, data: bytes) -> None:
            assert outcome(memory.read, address, length) == outcome(memory._read_slow, address,
                                                                    length) or (
                isinstance(outcome(memory.read, address, length), SandboxError) and
                str(outcome(memory.read, address, length)) == str(
                    outcome(memory._read_slow, address, length)))
            fast = outcome(memory.read_cstring, address, length)
            slow = outcome(memory._read_cstring_slow, address, length)
            assert fast == slow or (type(fast) is type(slow) and str(fast) == str(slow))
            wrote = outcome(memory.write, address, data)
            if isinstance(wrote, SandboxError):
                assert str(wrote) == str(outcome(memory._write_slow, address, data))
            else:
                assert memory.read(address, len(data)) == data
        check()


@pytest.mark.parametrize("backend", ["native", "wasmtime", "wasm2c"])
def test_bytes_and_str_arguments_are_copied_in_for_the_call(backend: str) -> None:
    """Data for const pointers goes to the scratch area (or, too large for it, to an
    allocation freed after the call): the library sees it NUL-terminated, and the
    area is given back when the call returns."""
    with sample_library().sandbox(backend) as sb:
        @FEW
        @given(st.one_of(st.binary(max_size=300), st.text(max_size=100),
                         st.binary(min_size=4000, max_size=9000).map(bytearray)))
        def check(value: bytes | str | bytearray) -> None:
            data = value.encode() if isinstance(value, str) else bytes(value)
            want = len(data.split(b"\0")[0])
            assert plain(sb.sample_strlen(value)) == want
            assert sb._gate.scratch_top == 0
        check()
        assert plain(sb.sample_checksum(b"\x01\x02\x03", 3)) == plain(
            sb.sample_checksum(sb.copy_in(b"\x01\x02\x03"), 3))
        with pytest.raises(ArgumentError, match="only be passed for a const pointer"):
            sb.sample_fill(b"xx", 2, 0)


class Every(Struct):
    _fields_: ClassVar[tuple[tuple[str, FieldType], ...]] = (
        ("c", Prim.CHAR), ("b", Prim.BOOL), ("i8", Prim.SCHAR), ("u8", Prim.UCHAR),
        ("i16", Prim.SHORT), ("u16", Prim.USHORT), ("i32", Prim.INT), ("u32", Prim.UINT),
        ("l", Prim.LONG), ("ul", Prim.ULONG), ("i64", Prim.LLONG), ("u64", Prim.ULLONG),
        ("f", Prim.FLOAT), ("d", Prim.DOUBLE), ("p", Ptr()), ("cp", Ptr("char", const=True)),
        ("fp", FuncPtr(CB)), ("inner", Point))


@pytest.mark.parametrize("backend", ["native", "wasmtime", "wasm2c"])
def test_compiled_struct_fields_agree_with_the_checked_python_path(backend: str) -> None:
    """A field read gives what ``_read`` gives, a field write stores what ``_write``
    stores or refuses with its error, for values of every kind."""
    with sample_library().sandbox(backend) as sb, sample_library().sandbox(backend) as other:
        size = Every.sizeof(sb.model)
        a, b = sb.copy_in(bytes(size)), sb.copy_in(bytes(size))
        fast, slow = Every(sb, a.address), Every(sb, b.address)
        names = [name for name, _ in Every._fields_]

        @FEW
        @given(st.sampled_from(names), values(sb, other) if backend != "native"
               else st.one_of(st.integers(-2**70, 2**70), st.floats(), st.none(), st.booleans(),
                              st.binary(max_size=2)))
        def check(name: str, value: object) -> None:
            t = dict(Every._fields_)[name]
            stored = outcome(setattr, fast, name, value)
            want = outcome(slow._write, name, t, value)
            if isinstance(want, SandboxError):
                assert type(stored) is type(want) and str(stored) == str(want), (name, value)
            else:
                assert stored is None, (name, value, stored)
            assert a.read().unverified_safe_because("test") == b.read().unverified_safe_because(
                "test"), (name, value)
            got, read = getattr(fast, name), slow._read(name, t)
            if isinstance(got, Struct):  # a view of the nested struct, in the same place
                assert type(got) is type(read) and got.address - a.address == (
                    read.address - b.address)
                return
            assert type(got) is type(read) and repr(got) == repr(read), (name, value)
            if isinstance(got, TaintedPtr):
                assert got.belongs_to(sb.memory)
        for name in names:
            for value in (edges(sb, other) if backend != "native" else [0, -1, 2**63, None]):
                check.hypothesis.inner_test(name, value)  # type: ignore[attr-defined]
        check()
    with pytest.raises(SandboxError, match="closed"):
        fast.i32  # type: ignore[attr-defined]  # a field, read through Struct's descriptors


def test_the_boundary_refuses_to_work_before_it_is_set_up() -> None:
    """A Caller, Callback or Field made before the runtime set the boundary up raises
    instead of crashing later (the types its results are made of are not known yet)."""
    import subprocess
    import sys
    probe = """
import sandboxlib._boundary as b
for make in (lambda: b.Callback(b.Gate(), print, None, None, (), (), None, 4),
             lambda: b.Field("x", int)):
    try:
        make()
    except RuntimeError as exc:
        print(exc)
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.stdout.splitlines() == ["sandboxlib._boundary: setup() was not called",
                                        "sandboxlib._boundary: setup_struct() was not called"]
