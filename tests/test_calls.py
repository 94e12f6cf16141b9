"""Calls through the runtime on every backend: values of every C type, in and out."""

from __future__ import annotations

import gc
import math
import struct

import pytest

from libs import plain

from sandboxlib import (ArgumentError, ClosedError, Library, PoisonedError, Prim, Ptr, Sandbox,
                        Signature, TaintError, Tainted, TaintedPtr)



INTS = [
    ("sample_inc_i8", -128, 127), ("sample_inc_u8", 0, 255),
    ("sample_inc_i16", -32768, 32767), ("sample_inc_u16", 0, 65535),
    ("sample_inc_i32", -2**31, 2**31 - 1), ("sample_inc_u32", 0, 2**32 - 1),
    ("sample_inc_i64", -2**63, 2**63 - 1), ("sample_inc_u64", 0, 2**64 - 1),
]


@pytest.mark.parametrize("name,lo,hi", INTS)
def test_integers_of_every_width_round_trip_and_wrap(sample: Sandbox, name: str, lo: int,
                                                     hi: int) -> None:
    f = getattr(sample, name)
    assert plain(f(lo)) == lo + 1
    assert plain(f(0)) == 1
    assert plain(f(hi - 1)) == hi
    assert plain(f(hi)) == lo  # C wrap-around, seen with the C type's sign


@pytest.mark.parametrize("name,lo,hi", INTS)
def test_out_of_range_integers_are_refused_with_function_and_argument(
        sample: Sandbox, name: str, lo: int, hi: int) -> None:
    f = getattr(sample, name)
    for bad in (lo - 1, hi + 1):
        with pytest.raises(ArgumentError) as err:
            f(bad)
        assert name in str(err.value) and "'v'" in str(err.value) and str(bad) in str(err.value)


def test_long_follows_the_backend_data_model(sample: Sandbox) -> None:
    lo, hi = sample.model.int_range(Prim.LONG)
    assert plain(sample.sample_negate_long(-hi)) == hi
    assert plain(sample.sample_ulong_max()) == sample.model.int_range(Prim.ULONG)[1]
    with pytest.raises(ArgumentError):
        sample.sample_negate_long(hi + 1)


def test_wrong_types_and_arity_are_refused(sample: Sandbox) -> None:
    with pytest.raises(ArgumentError, match="expected an int"):
        sample.sample_add("1", 2)
    with pytest.raises(ArgumentError, match="expected an int"):
        sample.sample_add(1.0, 2)
    with pytest.raises(ArgumentError, match="takes 2 argument"):
        sample.sample_add(1)
    assert plain(sample.sample_add(True, 2)) == 3  # bool is an int in C too


def test_tainted_values_cannot_be_passed_back_unverified(sample: Sandbox) -> None:
    n = sample.sample_add(1, 2)
    with pytest.raises(TaintError):
        sample.sample_add(n, 1)
    assert plain(sample.sample_add(n.verify(lambda v: 0 <= v < 10), 1)) == 4


def test_bool_and_char_results(sample: Sandbox) -> None:
    assert plain(sample.sample_is_even(4)) is True
    assert plain(sample.sample_is_even(7)) is False
    assert plain(sample.sample_char_at(b"\xffA", 0)) == -1  # char is signed on both targets
    assert plain(sample.sample_char_at("xA", 1)) == ord("A")


def test_floats(sample: Sandbox) -> None:
    assert plain(sample.sample_hypot(3.0, 4.0)) == 5.0
    assert plain(sample.sample_hypot(3, 4)) == 5.0
    assert plain(sample.sample_scale(1.5, 2.0)) == 3.0
    assert math.isinf(plain(sample.sample_scale(math.inf, 1.0)))
    with pytest.raises(ArgumentError, match="float"):
        sample.sample_scale(1e39, 1.0)  # does not fit a C float
    with pytest.raises(ArgumentError):
        sample.sample_hypot("3", 4.0)


def test_strings_in_and_out(sample: Sandbox) -> None:
    assert plain(sample.sample_strlen(b"hello")) == 5
    assert plain(sample.sample_strlen("héllo")) == 6  # str goes in as UTF-8
    greeting = sample.sample_greet("world")
    assert isinstance(greeting, TaintedPtr)
    assert plain(greeting.copy_string(max_len=100)) == b"Hello, world!"
    sample.sample_free(greeting)
    version = sample.sample_version_string()
    assert plain(version.copy_string(16)) == b"sample 3"
    with pytest.raises(TaintError, match="longer than max_len"):
        version.copy_string(4)


def test_bytes_only_go_to_const_pointers(sample: Sandbox) -> None:
    with pytest.raises(ArgumentError, match="const pointer"):
        sample.sample_fill(b"abc", 3, 0)


def test_buffers_in_and_out(sample: Sandbox) -> None:
    import zlib
    data = bytes(range(256)) * 40
    assert plain(sample.sample_checksum(data, len(data))) == zlib.adler32(data)
    with sample.alloc(64) as buf:
        sample.sample_fill(buf, 64, 0x5A)
        assert plain(buf.read()) == b"\x5a" * 64
        assert plain(buf.read(4, offset=60)) == b"\x5a" * 4
        with pytest.raises(ArgumentError):
            buf.read(8, offset=60)


def test_struct_written_by_the_library_and_read_by_the_host(sample: Sandbox) -> None:
    m = sample.model
    # struct sample_point { int32_t x, y; double weight; const char *label; }
    size = 16 + m.pointer_size
    with sample.alloc(size) as p:
        sample.sample_point_init(p, 3, -4, 2.0)
        x, y, w = struct.unpack_from("<iid", plain(p.read(16)))
        assert (x, y, w) == (3, -4, 2.0)
        assert plain(sample.sample_point_norm(p)) == 10.0
        label = plain(p.read_int(Prim.ULONG, offset=16))
        assert isinstance(label, int)
        text = sample.memory.read_cstring(label, 16)
        assert text == b"init"


def test_struct_allocated_by_the_library(sample: Sandbox) -> None:
    p = sample.sample_point_new(6, 8, "origin")
    assert plain(sample.sample_point_norm(p)) == 10.0
    raw = p.copy_bytes(16 + sample.model.pointer_size)
    fields = plain(raw)
    assert isinstance(fields, bytes)
    assert struct.unpack_from("<ii", fields) == (6, 8)


def test_callback_receives_tainted_arguments_and_its_result_goes_back(sample: Sandbox) -> None:
    seen: list[tuple[object, object]] = []

    def multiply(a: Tainted[int], b: Tainted[int]) -> int:
        seen.append((a, b))
        return a.verify(lambda v: abs(v) < 2**20) * b.verify(lambda v: abs(v) < 2**20)

    cb = sample.callback(multiply, Signature((Prim.INT, Prim.INT), Prim.INT))
    values = sample.copy_in(struct.pack("=4i", 1, 2, 3, 4))
    assert plain(sample.sample_fold(values, 4, cb, 1)) == 24
    assert len(seen) == 4 and all(isinstance(a, Tainted) for pair in seen for a in pair)


def test_callback_result_is_range_checked(sample: Sandbox) -> None:
    from sandboxlib import PoisonedError
    cb = sample.callback(lambda a, b: 2**40, Signature((Prim.INT, Prim.INT), Prim.INT))
    values = sample.copy_in(struct.pack("=2i", 1, 2))
    with pytest.raises(ArgumentError, match="return value"):
        sample.sample_fold(values, 2, cb, 0)
    with pytest.raises(PoisonedError):
        sample.sample_add(1, 1)


def test_exception_in_callback_reaches_the_caller(sample: Sandbox) -> None:
    class Boom(Exception):
        pass

    def explode(a: Tainted[int], b: Tainted[int]) -> int:
        raise Boom("from the callback")

    cb = sample.callback(explode, Signature((Prim.INT, Prim.INT), Prim.INT))
    values = sample.copy_in(struct.pack("=2i", 1, 2))
    with pytest.raises(Boom):
        sample.sample_fold(values, 2, cb, 0)
    assert sample.poisoned is not None


def test_pointer_from_one_sandbox_is_refused_by_another(sample_lib: object) -> None:
    from sandboxlib import Library
    assert isinstance(sample_lib, Library)
    with sample_lib.sandbox("wasmtime") as a, sample_lib.sandbox("wasmtime") as b:
        p = a.sample_greet("x")
        with pytest.raises(TaintError, match="another sandbox"):
            b.sample_strlen(p)
        assert plain(a.sample_strlen(p)) == 9



def test_a_freed_cell_is_dead_and_the_next_starts_zeroed(sample: Sandbox) -> None:
    first = sample.out(Prim.INT, initial=7)
    assert plain(first.value) == 7
    first.free()
    with pytest.raises(ArgumentError, match="already freed"):
        first.value  # noqa: B018
    assert plain(sample.out(Prim.UINT).value) == 0


CELL_VALUES = {Prim.BOOL: True, Prim.CHAR: -5, Prim.SCHAR: -128, Prim.UCHAR: 255,
               Prim.SHORT: -32768, Prim.USHORT: 65535, Prim.INT: -2**31, Prim.UINT: 2**32 - 1,
               Prim.LONG: -7, Prim.ULONG: 123456, Prim.LLONG: -2**63, Prim.ULLONG: 2**64 - 1,
               Prim.FLOAT: 1.5, Prim.DOUBLE: -2.25}


def test_a_cell_reads_back_every_c_type_tainted(sample: Sandbox) -> None:
    """(``.value`` is read in C: sizes, signs and the pointer's sandbox as C has them.)"""
    for t, v in CELL_VALUES.items():
        got = sample.out(t, initial=v).value
        assert type(got) is Tainted and type(plain(got)) is type(v) and plain(got) == v, t
    block = sample.alloc(8)
    pointer = sample.out(Ptr("char"), initial=block).value
    assert isinstance(pointer, TaintedPtr) and pointer.belongs_to(sample.memory)
    assert plain(pointer) == block.address


def test_a_cell_whose_initial_value_is_refused_gives_its_block_back(sample: Sandbox) -> None:
    freed = sample.out(Prim.UCHAR)
    address = freed.address
    freed.free()
    with pytest.raises(ArgumentError, match="300"):
        sample.out(Prim.UCHAR, initial=300)  # takes the freed block, then gives it back
    assert sample.out(Prim.UCHAR).address == address


def test_blocks_dropped_unfreed_or_kept_past_close(sample_lib: Library) -> None:
    """The compiled heap knows every live block (dropped ones leave it), and marks
    those still held freed when the sandbox closes."""
    sb = sample_lib.sandbox("wasmtime")
    kept, cell = sb.alloc(8), sb.out(Prim.INT, initial=5)
    for _ in range(100):
        sb.alloc(16)
        sb.out(Prim.INT)
    gc.collect()
    assert plain(cell.value) == 5
    sb.close()
    assert (kept.address, cell.address) == (0, 0)
    for use in (kept.read, lambda: cell.value):
        with pytest.raises(ClosedError):
            use()
    kept.free()  # already freed by the close: nothing to do
    with pytest.raises(TypeError):
        type(kept)(sb, 8, 8)  # type: ignore[call-arg]  # only a sandbox makes them


def test_a_poisoned_sandbox_gives_no_kept_block(hostile_lib: Library) -> None:
    with hostile_lib.sandbox("wasmtime") as sb:
        sb.out(Prim.INT).free()
        sb.alloc(8).free()
        sb.poison("for the test")
        with pytest.raises(PoisonedError):
            sb.out(Prim.INT)
        with pytest.raises(PoisonedError):
            sb.alloc(8)
    with pytest.raises(ClosedError):
        sb.out(Prim.INT)
