"""Property tests: random arguments and random sandbox-side values through every
type the generated proxy maps (integers of every width, floats, bools, chars,
pointers, struct fields, callbacks). Whatever the values, nothing but the
``SandboxError`` family escapes, nothing crashes, and what does come back is
exactly what C would see, within its C type.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from libs import H, packages, plain  # noqa: F401 fixtures

from sandboxlib import (WASM32, ArgumentError, BoundsError, FuncPtr, Prim, Ptr, SandboxError,
                        TaintError, Tainted, TaintedPtr)
from sandboxlib.runtime.structs import ArrayOf

FEW = settings(max_examples=100, deadline=None, database=None)
FLT_MAX = 3.4028234663852886e38
U32 = st.integers(0, 2**32 - 1)
ANYTHING = st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=4),
                     st.binary(max_size=4), st.builds(Tainted, st.integers()), st.just([1]))



def contained(fn: Callable[..., Any], *args: object) -> Any:
    """``fn(*args)``, or the SandboxError it raised; anything else fails the test."""
    try:
        return fn(*args)
    except SandboxError as exc:
        return exc


def c_value(t: Prim, raw: int) -> int:
    """What C sees of ``raw`` stored in type ``t`` (two's complement truncation)."""
    if t is Prim.BOOL:
        return int(raw & 0xFF != 0)
    bits = 8 * WASM32.size(t)
    raw &= (1 << bits) - 1
    return raw - (1 << bits) if WASM32.is_signed(t) and raw >> (bits - 1) else raw


def ints_around(t: Prim) -> st.SearchStrategy[int]:
    lo, hi = WASM32.int_range(t)
    return st.one_of(st.integers(lo, hi), st.sampled_from([lo - 1, lo, hi, hi + 1]),
                     st.integers(lo - 2**70, hi + 2**70))


def echoes(H: ModuleType) -> list[tuple[str, Prim]]:
    """Every generated ``hostile_echo_<type>`` function and its C type."""
    return [(f.name, f.sig.result) for f in H.FUNCTIONS
            if f.name.startswith("hostile_echo_") and isinstance(f.sig.result, Prim)]


def test_integer_and_bool_arguments_of_every_width(H: ModuleType,
                                                   isolating_backend: str) -> None:
    cases = [(n, t) for n, t in echoes(H) if t.is_integer]
    assert len(cases) == 13
    with H.sandbox(isolating_backend) as lib:
        @FEW
        @given(st.sampled_from(cases).flatmap(lambda c: st.tuples(st.just(c),
                                                                  ints_around(c[1]))))
        def check(case: tuple[tuple[str, Prim], int]) -> None:
            (name, t), value = case
            lo, hi = WASM32.int_range(t)
            got = contained(getattr(lib, name), value)
            if lo <= value <= hi:
                assert plain(got) == value
            else:
                assert isinstance(got, ArgumentError)
                assert name in str(got) and str(value) in str(got)
        check()
        assert lib.poisoned is None


def test_arguments_of_the_wrong_kind(H: ModuleType, isolating_backend: str) -> None:
    names = [n for n, _ in echoes(H)] + ["hostile_echo_ptr", "hostile_print"]
    with H.sandbox(isolating_backend) as lib:
        @FEW
        @given(st.sampled_from(names), ANYTHING)
        def check(name: str, value: object) -> None:
            got = contained(getattr(lib, name), value)
            assert isinstance(got, (SandboxError, Tainted))
        check()
        assert lib.poisoned is None


def test_float_arguments(H: ModuleType, isolating_backend: str) -> None:
    with H.sandbox(isolating_backend) as lib:
        @FEW
        @given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-2**60, 2**60))
        def check(value: float) -> None:
            as_double = plain(lib.hostile_echo_double(value))
            assert as_double == float(value) or (math.isnan(as_double) and math.isnan(value))
            got = contained(lib.hostile_echo_float, value)
            if math.isfinite(value) and abs(value) > FLT_MAX:
                assert isinstance(got, ArgumentError) and "hostile_echo_float" in str(got)
                return
            want = struct.unpack("<f", struct.pack("<f", value))[0]
            assert plain(got) == want or (math.isnan(plain(got)) and math.isnan(want))
        check()


def test_results_outside_their_c_type_are_seen_as_c_sees_them(H: ModuleType,
                                                             isolating_backend: str) -> None:
    """The hostile_raw_* functions return any 32 bits where the header promises a
    narrower type; the host gets a value of that type, the one a C caller sees."""
    raws = [(f.name, f.sig.result) for f in H.FUNCTIONS if f.name.startswith("hostile_raw_")]
    assert len(raws) == 6
    with H.sandbox(isolating_backend) as lib:
        @FEW
        @given(st.sampled_from(raws), U32)
        def check(case: tuple[str, Prim], raw: int) -> None:
            name, t = case
            got = plain(getattr(lib, name)(raw))
            lo, hi = WASM32.int_range(t)
            assert type(got) is (bool if t is Prim.BOOL else int) and lo <= got <= hi
            assert got == c_value(t, raw)
        check()


def test_random_float_bits_from_the_sandbox(H: ModuleType, isolating_backend: str) -> None:
    with H.sandbox(isolating_backend) as lib:
        @FEW
        @given(U32, st.integers(0, 2**64 - 1))
        def check(bits32: int, bits64: int) -> None:
            for got, fmt, bits in ((lib.hostile_float_bits(bits32), "f", bits32),
                                   (lib.hostile_double_bits(bits64), "d", bits64)):
                want = struct.unpack(f"<{fmt}", bits.to_bytes(struct.calcsize(fmt), "little"))[0]
                value = plain(got)
                assert type(value) is float
                assert value == want or (math.isnan(value) and math.isnan(want))
        check()


def test_random_pointers_from_the_sandbox(H: ModuleType, isolating_backend: str) -> None:
    """The sandbox returns any 32-bit pointer; the host reads any length through it."""
    with H.sandbox(isolating_backend) as lib:
        size = lib.sandbox.memory.size
        addresses = st.one_of(U32, st.integers(0, size + 64), st.integers(size - 256, size))

        @FEW
        @given(addresses, st.integers(-8, 2**33), st.integers(0, 2**20))
        def check(address: int, length: int, max_len: int) -> None:
            p = lib.hostile_forge(None, address - 2**32 if address >= 2**31 else address)
            assert isinstance(p, TaintedPtr) and plain(p) == address
            data = contained(p.copy_bytes, length)
            if isinstance(data, SandboxError):
                assert isinstance(data, BoundsError) and "hostile_forge() result" in str(data)
                assert not (0 < address and 0 <= length and address + length <= size)
            else:
                assert len(plain(data)) == length and address + length <= size
            text = contained(p.copy_string, max_len)
            assert isinstance(text, (Tainted, TaintError))  # BoundsError is a TaintError
            if isinstance(text, Tainted):
                assert len(plain(text)) <= max_len and address + len(plain(text)) < size
            node = contained(lib.view, H.hostile_node, p)
            if not isinstance(node, SandboxError):
                read_every_field(lib, node)
            assert plain(lib.hostile_echo_ptr(p)) == address  # its own pointer may go back
            moved = contained(lib.hostile_echo_ptr, p.offset(length))
            if 0 <= address + length < 2**32:
                assert plain(moved) == address + length
            else:
                assert isinstance(moved, ArgumentError) and "outside" in str(moved)
        check()
        assert lib.poisoned is None


def read_every_field(lib: Any, view: Any) -> dict[str, Any]:
    """Each field of a struct view, checked against its C type; pointers are followed
    with a random-ish length, which may only fail inside the SandboxError family."""
    values: dict[str, Any] = {}
    for name, t in type(view)._fields_:
        value = getattr(view, name)
        if isinstance(t, Prim):
            raw = plain(value)
            if t.is_float:
                assert type(raw) is float
            elif t is Prim.BOOL:
                assert type(raw) is bool
            else:
                lo, hi = WASM32.int_range(t)
                assert type(raw) is int and lo <= raw <= hi
            values[name] = raw
        elif isinstance(t, (Ptr, FuncPtr)):
            assert isinstance(value, TaintedPtr) and 0 <= plain(value) < 2**32
            contained(value.copy_string, 64)
            contained(value.copy_bytes, 16)
            values[name] = plain(value)
        elif isinstance(t, ArrayOf):
            values[name] = plain(value)
        else:
            values[name] = read_every_field(lib, value)
            if "data" in values[name]:  # a pointer and a length chosen by the sandbox
                contained(value.data.copy_bytes, values[name]["len"])
    return values


def _unpack(t: Prim, data: bytes, offset: int) -> Any:
    if t.is_float:
        return struct.unpack_from("<f" if t is Prim.FLOAT else "<d", data, offset)[0]
    size = WASM32.size(t)
    raw = int.from_bytes(data[offset:offset + size], "little")
    return bool(c_value(t, raw)) if t is Prim.BOOL else c_value(t, raw)


def test_random_struct_contents_from_the_sandbox(H: ModuleType, isolating_backend: str) -> None:
    """The sandbox fills a record with random bytes; every field reads back as the C
    layout says, and following its pointers fails only inside the SandboxError family."""
    record = H.hostile_record
    layout = record.layout(WASM32)
    with H.sandbox(isolating_backend) as lib:
        view, alloc = lib.new(record)

        @FEW
        @given(st.binary(min_size=layout.size, max_size=layout.size))
        def check(data: bytes) -> None:
            lib.hostile_record_scramble(view, data, len(data))
            values = read_every_field(lib, view)
            for name, t in record._fields_:
                if isinstance(t, Prim):
                    want = _unpack(t, data, layout.offsets[name])
                    got = values[name]
                    assert got == want or (isinstance(got, float) and math.isnan(got)
                                           and math.isnan(want))
            assert values["name"] == data[layout.offsets["name"]:layout.offsets["name"] + 8]
        check()
        alloc.free()


def test_struct_fields_written_by_the_host(H: ModuleType, isolating_backend: str) -> None:
    int_fields = [(n, t) for n, t in H.hostile_record._fields_
                  if isinstance(t, Prim) and t.is_integer]
    with H.sandbox(isolating_backend) as lib:
        view, alloc = lib.new(H.hostile_record)

        @FEW
        @given(st.sampled_from(int_fields).flatmap(lambda f: st.tuples(st.just(f),
                                                                       ints_around(f[1]))))
        def check(case: tuple[tuple[str, Prim], int]) -> None:
            (name, t), value = case
            lo, hi = WASM32.int_range(t)
            got = contained(setattr, view, name, value)
            if lo <= value <= hi:
                assert got is None and plain(getattr(view, name)) == value
            else:
                assert isinstance(got, ArgumentError) and f"hostile_record.{name}" in str(got)
        check()
        alloc.free()


def test_arguments_stored_by_the_library_in_a_struct(H: ModuleType,
                                                     isolating_backend: str) -> None:
    names = ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"]
    types = dict(H.hostile_record._fields_)
    with H.sandbox(isolating_backend) as lib:
        view, alloc = lib.new(H.hostile_record)

        @FEW
        @given(st.tuples(*(st.integers(*WASM32.int_range(types[n])) for n in names)),
               st.floats(width=32), st.floats(), st.booleans(), st.integers(-128, 127))
        def check(ints: tuple[int, ...], f: float, d: float, b: bool, c: int) -> None:
            lib.hostile_record_fill(view, *ints, f, d, b, c)
            got = {n: plain(getattr(view, n)) for n in [*names, "l", "ul", "b", "c"]}
            assert [got[n] for n in names] == list(ints)
            assert (got["l"], got["ul"], got["b"], got["c"]) == (ints[4], ints[5], b, c)
            for name, want in (("f", f), ("d", d)):
                value = plain(getattr(view, name))
                assert value == want or (math.isnan(value) and math.isnan(want))
        check()
        alloc.free()


def test_callback_results_and_arguments(H: ModuleType, isolating_backend: str) -> None:
    """Random callback results (any Python value) and random data handed to a
    callback: right answers, or a SandboxError and a poisoned sandbox."""
    state: dict[str, Any] = {"lib": H.sandbox(isolating_backend)}

    @FEW
    @given(st.one_of(ints_around(Prim.INT), ANYTHING), st.integers(0, 6))
    def check(result: object, which: int) -> None:
        lib = state["lib"]
        if lib.poisoned is not None:
            lib.close()
            lib = state["lib"] = H.sandbox(isolating_backend)
        cb = lib.callback(lambda v: result, H.hostile_cb, "random")
        got = contained(lib.hostile_call, cb, 7)
        lo, hi = WASM32.int_range(Prim.INT)
        if type(result) in (int, bool) and lo <= result <= hi:  # type: ignore[operator]
            assert plain(got) == result
        else:
            assert isinstance(got, (ArgumentError, TaintError)) and "callback random" in str(got)
            assert lib.poisoned is not None
            return
        seen: list[object] = []

        def on_data(data: TaintedPtr, n: Tainted[int]) -> int:
            seen.append(contained(data.copy_bytes, n.verify_range(0, 2**32)))
            return 0
        assert plain(lib.hostile_call_data(lib.callback(on_data, H.hostile_data_cb), which)) == 0
        assert isinstance(seen[0], (Tainted, BoundsError))

    try:
        check()
    finally:
        state["lib"].close()
