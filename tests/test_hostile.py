"""A hostile library attacks the host through its generated proxy.

c_src/hostile/ is C written to misbehave; ``sandboxlib wrap`` turns its header into
a package as for any library. Every attack must end in the documented
``SandboxError`` subclass, with a message naming the function (or field, or
callback argument) and the offending value; the host keeps running, a second
sandbox of the same library running beside the victim keeps giving right answers,
and data the host holds is unchanged. Every test runs on each isolating backend.
"""

from __future__ import annotations

import gc
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from libs import H, ROOT, hostile_package, packages, plain  # noqa: F401 fixtures

from sandboxlib import (ArgumentError, BoundsError, BuildError, CapabilityError, ClosedError,
                        Grants, Limits, PoisonedError, Preopen, Prim, ResourceError,
                        SandboxError, TaintError, Tainted, TaintedPtr, TrapError)

MiB = 1 << 20
INDIRECT = r"indirect call|call_indirect|table"  # how backends name a failed call_indirect



@pytest.fixture
def lib(H: ModuleType, isolating_backend: str) -> Iterator[Any]:
    with H.sandbox(isolating_backend) as sb:
        yield sb


class Account:
    """A host object the sandbox may hold only as a handle."""

    def __init__(self, balance: int = 100) -> None:
        self.balance = balance


class Bystander:
    """A second sandbox of the same library, with state, checked after an attack."""

    def __init__(self, lib: Any, H: ModuleType) -> None:
        self.lib = lib
        self.state = lib.copy_in(b"bystander state")
        self.cb = lib.callback(lambda v: v.verify_range(-1000, 1000) + 1, H.hostile_cb)
        self.handle = lib.handles.new(Account(7))
        self.check()

    def check(self) -> None:
        lib = self.lib
        assert lib.poisoned is None
        assert plain(lib.hostile_ok(21)) == 42
        assert plain(lib.hostile_call(self.cb, 41)) == 42
        assert plain(self.state.read()) == b"bystander state"
        assert plain(lib.hostile_echo_i64(-2**63)) == -2**63
        assert plain(lib.hostile_long_string(3).copy_string(8)) == b"BBB"
        assert lib.handles.get(lib.hostile_echo_ptr(self.handle), Account).balance == 7


# -- the attacks ----------------------------------------------------------------------


@dataclass
class Ctx:
    """What an attack works with; ``facts`` records values its error must name."""

    lib: Any
    H: ModuleType
    backend: str
    packages: Path
    facts: dict[str, str] = field(default_factory=dict)

    def package(self, name: str) -> ModuleType:
        return hostile_package(name, self.packages)

    def blob(self, which: int) -> Any:
        return self.lib.view(self.H.struct_hostile_blob, self.lib.hostile_blob(which))

    def hex_end(self, minus: int = 0) -> str:
        return f"0x{self.lib.sandbox.memory.size - minus:x}"


@dataclass(frozen=True)
class Attack:
    name: str
    run: Callable[[Ctx], object]
    error: type[SandboxError]
    names: tuple[str, ...]  # regexes the message must match, formatted with the facts
    poisons: bool
    limits: Limits | None


ATTACKS: list[Attack] = []


def attack(error: type[SandboxError], *names: str, poisons: bool = False,
           limits: Limits | None = None) -> Callable[[Callable[[Ctx], object]],
                                                     Callable[[Ctx], object]]:
    def register(run: Callable[[Ctx], object]) -> Callable[[Ctx], object]:
        ATTACKS.append(Attack(run.__name__, run, error, names, poisons, limits))
        return run
    return register


# pointers and lengths the library returns


@attack(BoundsError, r"hostile_wild_pointer\(\) result", "0xfffffff0")
def wild_pointer(c: Ctx) -> None:
    c.lib.hostile_wild_pointer().copy_bytes(4)


@attack(BoundsError, r"hostile_pointer_at_end\(\) result", "{end}")
def pointer_one_past_the_end(c: Ctx) -> None:
    c.facts["end"] = c.hex_end()
    c.lib.hostile_pointer_at_end().copy_bytes(1)


@attack(BoundsError, r"struct_hostile_blob\.data", "NULL")
def null_data_pointer(c: Ctx) -> None:
    blob = c.blob(c.H.HOSTILE_BLOB_NULL)
    blob.data.copy_bytes(blob.len.verify_range(0, 64))


@attack(BoundsError, r"struct_hostile_blob\.data", r"\+64\)", "{start}")
def span_crossing_the_end(c: Ctx) -> None:
    blob = c.blob(c.H.HOSTILE_BLOB_CROSSES_END)
    c.facts["start"] = c.hex_end(16)
    blob.data.copy_bytes(blob.len.unverified_safe_because("the copy is bounds-checked anyway"))


@attack(BoundsError, r"struct_hostile_blob\.data", r"\+4294967295\)")
def length_0xffffffff(c: Ctx) -> None:
    blob = c.blob(c.H.HOSTILE_BLOB_HUGE_LENGTH)
    blob.data.copy_bytes(blob.len.unverified_safe_because("the copy is bounds-checked anyway"))


@attack(BoundsError, r"struct_hostile_blob\.data", r"0xfffffff0, \+32\)")
def span_wrapping_around_4gib(c: Ctx) -> None:
    blob = c.blob(c.H.HOSTILE_BLOB_WRAPS)
    blob.data.copy_bytes(blob.len.unverified_safe_because("the copy is bounds-checked anyway"))


@attack(BoundsError, r"struct_hostile_blob\.data", r"\+4294967300\)")
def item_count_times_size_overflows_32_bits(c: Ctx) -> None:
    blob = c.blob(c.H.HOSTILE_BLOB_COUNT_OVERFLOW)
    count = blob.len.unverified_safe_because("the copy is bounds-checked anyway")
    blob.data.copy_bytes(4 * count)  # in C, 4 * 0x40000001 wraps to 4


@attack(BoundsError, r"hostile_long_string\(\) result", r"\+-1\)")
def negative_size(c: Ctx) -> None:
    size = c.lib.hostile_negative_size().unverified_safe_because("bounds-checked anyway")
    c.lib.hostile_long_string(8).copy_bytes(size)


@attack(TaintError, r"hostile_unterminated\(\) result", "max_len=100")
def unterminated_string(c: Ctx) -> None:
    c.lib.hostile_unterminated().copy_string(100)


@attack(BoundsError, r"hostile_pointer_near_end\(\) result", "{start}", "without a NUL")
def string_running_off_the_end(c: Ctx) -> None:
    c.facts["start"] = c.hex_end(4)
    c.lib.hostile_pointer_near_end().copy_string(MiB)


@attack(TaintError, r"hostile_long_string\(\) result", "max_len=1024")
def string_longer_than_allowed(c: Ctx) -> None:
    c.lib.hostile_long_string(MiB).copy_string(1024)


@attack(BoundsError, r"hostile_node\.name", "0xdeadbeef")
def struct_with_a_wild_string(c: Ctx) -> None:
    node = c.lib.view(c.H.hostile_node, c.lib.hostile_wild_node())
    assert plain(node.tag) == 7
    node.name.copy_string(64)


@attack(BoundsError, "hostile_node", "0xfffffff8")
def struct_with_a_wild_next_pointer(c: Ctx) -> None:
    node = c.lib.view(c.H.hostile_node, c.lib.hostile_wild_node())
    c.lib.view(c.H.hostile_node, node.next)


@attack(BoundsError, r"struct_hostile_blob\.data", "0x7fffffff")
def nested_struct_with_a_wild_span(c: Ctx) -> None:
    blob = c.lib.view(c.H.hostile_node, c.lib.hostile_wild_node()).blob
    blob.data.copy_bytes(blob.len.verify_range(0, 1 << 16))


@attack(BoundsError, "hostile_node", "{start}", "past the end")
def struct_straddling_the_end(c: Ctx) -> None:
    c.facts["start"] = c.hex_end(8)
    c.lib.view(c.H.hostile_node, c.lib.hostile_node_at_end())


@attack(TaintError, r"hostile_stack_pointer\(\) result", "max_len=16")
def pointer_into_the_stack_after_return(c: Ctx) -> None:
    p = c.lib.hostile_stack_pointer()
    c.lib.hostile_clobber_stack(ord("X"))  # the next call reuses the frame
    p.copy_string(16)


@attack(TaintError, r"hostile_freed_pointer\(\) result", "the secret")
def pointer_to_freed_memory(c: Ctx) -> None:
    p = c.lib.hostile_freed_pointer()
    p.copy_and_verify_string(64, lambda s: s == b"secret", "the secret")


@attack(TaintError, r"hostile_raw_i8\(\) result", "-1 is outside")
def small_int_result_out_of_range(c: Ctx) -> None:
    r = c.lib.hostile_raw_i8(0x1FF)  # 511 in an int8_t: the host sees what C sees, -1
    r.verify_range(0, 100)


@attack(TaintError, r"hostile_float_bits\(\) result", "nan")
def non_finite_float(c: Ctx) -> None:
    c.lib.hostile_float_bits(0x7FC00001).verify(math.isfinite, "finite")


# traps


@attack(TrapError, r"hostile_unreachable\(\)", "unreachable", poisons=True)
def unreachable(c: Ctx) -> None:
    c.lib.hostile_unreachable()


@attack(TrapError, r"hostile_read_far\(\)", "out-of-bounds|out of bounds", poisons=True)
def load_outside_memory(c: Ctx) -> None:
    c.lib.hostile_read_far(0xFFFFFFF0)


@attack(TrapError, r"hostile_divide\(\)", "division by zero|divide by zero", poisons=True)
def division_by_zero(c: Ctx) -> None:
    c.lib.hostile_divide(1, 0)


@attack(TrapError, r"hostile_divide\(\)", "integer overflow", poisons=True)
def int_min_divided_by_minus_one(c: Ctx) -> None:
    c.lib.hostile_divide(-2**31, -1)


@attack(TrapError, r"hostile_abort\(\)", "unreachable", poisons=True)
def library_calls_abort(c: Ctx) -> None:
    c.lib.hostile_abort()


@attack(TrapError, r"hostile_deep_trap\(\)", r"unreachable in hostile_inner_fault\b",
        poisons=True)
def trap_names_the_function_it_happened_in(c: Ctx) -> None:
    c.lib.hostile_deep_trap(0, 0)


@attack(TrapError, r"hostile_deep_trap\(\)", r"(division|divide) by zero in hostile_inner_fault\b",
        poisons=True)
def division_trap_names_its_function(c: Ctx) -> None:
    c.lib.hostile_deep_trap(1, 0)


@attack(TrapError, r"hostile_deep_trap\(\)",
        r"(out-of-bounds|out of bounds).* in hostile_inner_fault\b", poisons=True)
def out_of_bounds_trap_names_its_function(c: Ctx) -> None:
    c.lib.hostile_deep_trap(2, 0)


@attack(TrapError, r"hostile_deep_trap\(\)",
        r"(out-of-bounds|out of bounds).* in hostile_inner_fault\b", poisons=True)
def out_of_bounds_fill_names_its_function(c: Ctx) -> None:
    c.lib.hostile_deep_trap(3, 0)  # memset: memory.fill


@attack(TrapError, r"hostile_deep_trap\(\)",
        r"(out-of-bounds|out of bounds).* in hostile_inner_fault\b", poisons=True)
def out_of_bounds_copy_names_its_function(c: Ctx) -> None:
    c.lib.hostile_deep_trap(4, 0)  # memcpy: memory.copy


@attack(TrapError, r"hostile_exit\(\)", r"exit.*\b3\b", poisons=True)
def library_calls_exit(c: Ctx) -> None:
    c.lib.hostile_exit(3)  # WASI proc_exit must end the call, not the host process


@attack(TrapError, r"hostile_recurse\(\)", "stack|out-of-bounds", poisons=True)
def deep_recursion(c: Ctx) -> None:  # either stack may run out first: see test_containment
    c.lib.hostile_recurse(0)


@attack(TrapError, r"hostile_recurse_shadow\(\)", "out-of-bounds|out of bounds|stack",
        poisons=True)
def shadow_stack_exhaustion(c: Ctx) -> None:
    c.lib.hostile_recurse_shadow(0)


@attack(PoisonedError, "poisoned", r"hostile_unreachable\(\)", poisons=True)
def use_after_a_trap(c: Ctx) -> None:
    with pytest.raises(TrapError):
        c.lib.hostile_unreachable()
    c.lib.hostile_ok(1)


# resources


@attack(ResourceError, r"hostile_spin\(\)", r"timeout=0\.2", poisons=True,
        limits=Limits(timeout=0.2))
def infinite_loop_against_a_deadline(c: Ctx) -> None:
    c.lib.hostile_spin()


@attack(ResourceError, r"hostile_spin\(\)", "fuel=5000000", poisons=True,
        limits=Limits(fuel=5_000_000, timeout=10.0))
def infinite_loop_against_fuel(c: Ctx) -> None:
    c.lib.hostile_spin()


@attack(ResourceError, r"alloc\(\)", "4194304", limits=Limits(memory_bytes=4 * MiB))
def malloc_bomb(c: Ctx) -> None:
    count = c.lib.hostile_malloc_bomb(64 << 10).verify_range(1, 64)  # NULL ended the bomb
    assert count < 64 and c.lib.sandbox.memory.size <= 4 * MiB
    c.lib.alloc(4 * MiB)


@attack(ResourceError, r"alloc\(\)", "1048576", limits=Limits(memory_bytes=4 * MiB))
def memory_grow_to_the_maximum(c: Ctx) -> None:
    c.lib.hostile_grow_max().verify_range(0, 64)  # 4 GiB at once refused, then page by page
    assert c.lib.sandbox.memory.size <= 4 * MiB
    c.lib.alloc(MiB)


# callbacks


def _read_all(data: TaintedPtr, n: Tainted[int]) -> int:
    data.copy_bytes(n.unverified_safe_because("the copy is bounds-checked anyway"))
    return 0


@attack(BoundsError, "callback _read_all argument 1 'data'", r"0xfffffff0, \+32\)",
        r"hostile_call_data\(\)", poisons=True)
def callback_called_with_a_wild_pointer(c: Ctx) -> None:
    c.lib.hostile_call_data(c.lib.callback(_read_all, c.H.hostile_data_cb),
                            c.H.HOSTILE_BLOB_WRAPS)


@attack(BoundsError, "callback _read_all argument 1 'data'", r"\+4294967295\)", poisons=True)
def callback_called_with_a_huge_length(c: Ctx) -> None:
    c.lib.hostile_call_data(c.lib.callback(_read_all, c.H.hostile_data_cb),
                            c.H.HOSTILE_BLOB_HUGE_LENGTH)


@attack(TrapError, r"hostile_call_stored\(\)", INDIRECT, poisons=True)
def callback_called_after_unregistration(c: Ctx) -> None:
    cb = c.lib.callback(lambda v: 5, c.H.hostile_cb)
    c.lib.hostile_store_cb(cb)
    assert plain(c.lib.hostile_call_stored(1)) == 5
    cb.unregister()
    c.lib.hostile_call_stored(1)


@attack(TrapError, r"hostile_call_wrong_type\(\)", INDIRECT, poisons=True)
def callback_called_with_the_wrong_type(c: Ctx) -> None:
    c.lib.hostile_call_wrong_type(c.lib.callback(lambda v: 5, c.H.hostile_cb))


@attack(TrapError, r"hostile_call_slot\(\)", INDIRECT, poisons=True)
def call_through_a_forged_table_index(c: Ctx) -> None:
    c.lib.hostile_call_slot(0xFFFF, 1)


@attack(TrapError, r"hostile_call_slot\(\)", INDIRECT, poisons=True)
def call_through_a_null_function_pointer(c: Ctx) -> None:
    c.lib.hostile_call_slot(0, 1)


@attack(ResourceError, "callback again", "64 levels", "max_callback_depth=64", poisons=True)
def runaway_reentrant_callback(c: Ctx) -> None:
    def again(v: Tainted[int]) -> int:
        return int(plain(c.lib.hostile_call(cb, 1)))
    cb = c.lib.callback(again, c.H.hostile_cb)
    c.lib.hostile_call(cb, 1)


@attack(TrapError, r"hostile_unreachable\(\)", "unreachable", poisons=True)
def trap_inside_a_callback(c: Ctx) -> None:
    cb = c.lib.callback(lambda v: plain(c.lib.hostile_unreachable()), c.H.hostile_cb)
    c.lib.hostile_call(cb, 1)


@attack(TrapError, r"hostile_recurse\(\)", "stack|out-of-bounds", poisons=True)
def stack_exhaustion_inside_a_callback(c: Ctx) -> None:
    cb = c.lib.callback(lambda v: plain(c.lib.hostile_recurse(0)), c.H.hostile_cb)
    c.lib.hostile_call(cb, 1)


@attack(PoisonedError, "callback swallow", r"hostile_unreachable\(\)", poisons=True)
def callback_that_swallows_a_trap(c: Ctx) -> None:
    def swallow(v: Tainted[int]) -> int:
        with pytest.raises(TrapError):
            c.lib.hostile_unreachable()
        return 0  # the outer call must not go on in a poisoned sandbox
    c.lib.hostile_call(c.lib.callback(swallow, c.H.hostile_cb), 1)


# host handles


@attack(TaintError, r"hostile_forge\(\) result", "{index}")
def forged_handle(c: Ctx) -> None:
    h = c.lib.handles.new(Account())
    c.facts["index"] = f"0x{h.index + 8:x}"
    c.lib.handles.get(c.lib.hostile_forge(h, 8), Account)


@attack(TaintError, r"hostile_echo_ptr\(\) result", "{index}", "released")
def released_handle(c: Ctx) -> None:
    h = c.lib.handles.new(Account())
    p = c.lib.hostile_echo_ptr(h)
    assert c.lib.handles.get(p, Account) is h.obj
    c.facts["index"] = f"0x{h.index:x}"
    h.release()
    c.lib.handles.get(p, Account)


@attack(TaintError, r"hostile_echo_ptr\(\) result", "names a dict, not a Account")
def handle_of_the_wrong_type(c: Ctx) -> None:
    h = c.lib.handles.new({"not": "an account"})
    c.lib.handles.get(c.lib.hostile_echo_ptr(h), Account)


@attack(TaintError, r"hostile_forge\(\) result", "{index}", "another sandbox")
def handle_issued_by_another_sandbox(c: Ctx) -> None:
    with c.H.sandbox(c.backend) as other:
        h = other.handles.new(Account())
        c.facts["index"] = f"0x{h.index:x}"
        c.lib.handles.get(c.lib.hostile_forge(None, h.index), Account)  # the number leaked


@attack(TaintError, "callback on_user argument 1 'user'", "{index}", r"hostile_call_user\(\)",
        poisons=True)
def forged_handle_in_a_callback(c: Ctx) -> None:
    def on_user(user: TaintedPtr, v: Tainted[int]) -> int:
        return int(c.lib.handles.get(user, Account).balance)
    cb = c.lib.callback(on_user, c.H.hostile_user_cb)
    h = c.lib.handles.new(Account(100))
    assert plain(c.lib.hostile_call_user(cb, h, 0)) == 100
    c.facts["index"] = f"0x{h.index + 4:x}"
    c.lib.hostile_call_user(cb, h, 4)


# the module itself


@attack(CapabilityError, "env.host_secret")
def import_that_was_not_granted(c: Ctx) -> None:
    c.package("hostile_import").sandbox(c.backend)


@attack(SandboxError, "hostile_wrong_export", "i64")
def export_whose_type_differs_from_the_header(c: Ctx) -> None:
    c.lib.hostile_wrong_export(1)


@attack(BoundsError, r"hostile_alloc_strlen\(\): argument 1 'text'", r"malloc\(5001\)",
        "0xffffff00")
def malloc_returning_a_wild_pointer(c: Ctx) -> None:
    A = c.package("hostile_alloc")
    with A.sandbox(c.backend) as lib:
        assert plain(lib.hostile_alloc_strlen("honest")) == 6
        lib.hostile_alloc_mode(A.HOSTILE_ALLOC_WILD)
        # an argument too large for the scratch area is copied in with the library's malloc
        lib.hostile_alloc_strlen("h" * 5000)


@attack(BoundsError, r"malloc\(16\)", "past|outside")
def malloc_returning_a_block_past_the_end(c: Ctx) -> None:
    A = c.package("hostile_alloc")
    with A.sandbox(c.backend) as lib:
        lib.hostile_alloc_mode(A.HOSTILE_ALLOC_AT_END)
        lib.alloc(16)


@attack(BoundsError, r"out\(\): the sandbox's malloc\(8\) returned 0xffffff00", "outside")
def malloc_returning_a_wild_pointer_for_an_out_cell(c: Ctx) -> None:
    A = c.package("hostile_alloc")
    with A.sandbox(c.backend) as lib:
        lib.hostile_alloc_mode(A.HOSTILE_ALLOC_WILD)
        lib.out(Prim.DOUBLE)


@pytest.mark.parametrize("a", ATTACKS, ids=lambda a: a.name)
def test_attack_is_contained(a: Attack, H: ModuleType, isolating_backend: str,
                             packages: Path) -> None:
    held = bytearray(b"data the host holds")
    with H.sandbox(isolating_backend) as other, \
            H.sandbox(isolating_backend, limits=a.limits) as victim:
        bystander = Bystander(other, H)
        ctx = Ctx(victim, H, isolating_backend, packages)
        victim.hostile_overflow_arg(held, 0)  # the victim overwrites its copy of it
        checked = ctx.blob(H.HOSTILE_BLOB_GOOD).data.copy_and_verify(
            9, lambda b: b == b"good data")
        with pytest.raises(SandboxError) as err:
            a.run(ctx)
        assert type(err.value) is a.error, repr(err.value)
        text = "\n".join([str(err.value), *getattr(err.value, "__notes__", ())])
        for pattern in a.names:
            expanded = pattern.format(**{k: re.escape(v) for k, v in ctx.facts.items()})
            assert re.search(expanded, text), (expanded, text)
        if a.poisons:
            assert victim.poisoned is not None
            with pytest.raises(PoisonedError):
                victim.hostile_ok(1)
        else:
            assert victim.poisoned is None
            assert plain(victim.hostile_ok(21)) == 42
        bystander.check()
    assert held == b"data the host holds" and checked == b"good data"


@pytest.mark.quick
def test_there_are_at_least_30_distinct_attacks() -> None:
    assert len({a.name for a in ATTACKS}) == len(ATTACKS) >= 30


def test_a_sandbox_keeps_working_while_another_is_inside_a_callback(H: ModuleType,
                                                                   isolating_backend: str) -> None:
    with H.sandbox(isolating_backend) as a, H.sandbox(isolating_backend) as b:
        def use_b(v: Tainted[int]) -> int:
            return int(plain(b.hostile_ok(v.verify_range(0, 100)))) + 1
        assert plain(a.hostile_call(a.callback(use_b, H.hostile_cb), 20)) == 41
        with pytest.raises(TrapError):
            a.hostile_call(a.callback(lambda v: plain(a.hostile_unreachable()), H.hostile_cb), 1)
        assert plain(b.hostile_ok(4)) == 8


# -- attacks that fail silently: the host keeps what it checked ---------------------


def test_checks_apply_to_the_copy_the_host_keeps(lib: Any, H: ModuleType) -> None:
    """Double fetch: the sandbox rewrites memory between the host's check and its use
    (here the check itself lets the sandbox run); the host keeps what it checked."""
    kept: list[bytes] = []

    def on_data(data: TaintedPtr, n: Tainted[int]) -> int:
        size = n.verify_range(0, 16)

        def is_good(b: bytes) -> bool:
            lib.hostile_scribble()  # the sandbox runs between the fetch and the use
            return b == b"good"
        kept.append(data.copy_and_verify(size, is_good, "is good"))
        kept.append(plain(data.copy_bytes(size)))  # a second fetch sees the change
        return 1

    assert plain(lib.hostile_call_data(lib.callback(on_data, H.hostile_data_cb),
                                       H.HOSTILE_BLOB_SHARED)) == 1
    assert kept == [b"good", b"evil"]


def test_data_passed_in_is_a_copy(lib: Any) -> None:
    """The library writes through a const pointer, and past the end of the data: it
    changes its own copy only."""
    text, buf, view = b"host bytes", bytearray(b"host bytearray"), memoryview(b"host view")
    for arg in (text, buf, view, "host str"):
        assert plain(lib.hostile_overflow_arg(arg, 0)) == len(arg)
    assert (text, bytes(buf), view.tobytes()) == (b"host bytes", b"host bytearray", b"host view")
    try:  # 4 KiB past the end corrupts the sandbox's heap: its problem, not the host's
        lib.hostile_overflow_arg(buf, 4096)
    except SandboxError:
        pass
    assert buf == b"host bytearray"


def test_pointers_outliving_their_sandbox_cannot_read_freed_memory(
        H: ModuleType, isolating_backend: str) -> None:
    lib = H.sandbox(isolating_backend)
    p = lib.hostile_long_string(4)
    node = lib.view(H.hostile_node, lib.hostile_wild_node())
    assert plain(p.copy_string(8)) == b"BBBB"
    lib.close()
    with pytest.raises(ClosedError, match="closed"):
        p.copy_string(8)
    with pytest.raises(ClosedError, match="closed"):
        node.tag  # noqa: B018
    q = H.sandbox(isolating_backend).hostile_long_string(4)  # the sandbox is garbage now
    gc.collect()
    with pytest.raises(ClosedError, match="closed"):
        q.copy_bytes(4)  # used to read the freed store: a host crash


# -- callbacks ---------------------------------------------------------------------------


def test_callback_arguments_are_tainted_and_results_range_checked(lib: Any,
                                                                  H: ModuleType) -> None:
    seen: list[object] = []

    def double(v: Tainted[int]) -> int:
        seen.append(v)
        return v.verify_range(-1000, 1000) * 2
    assert plain(lib.hostile_call(lib.callback(double, H.hostile_cb), 21)) == 42
    assert isinstance(seen[0], Tainted) and seen[0].origin == "callback double argument 1 'v'"
    big = lib.callback(lambda v: 2**31, H.hostile_cb, "big")
    with pytest.raises(ArgumentError, match=r"callback big return value: 2147483648 does not "
                                            "fit C type 'int'"):
        lib.hostile_call(big, 1)
    assert lib.poisoned is not None


def test_callback_returning_a_tainted_value_is_refused(lib: Any, H: ModuleType) -> None:
    with pytest.raises(TaintError, match="callback echo return value"):
        lib.hostile_call(lib.callback(lambda v: v, H.hostile_cb, "echo"), 1)
    assert lib.poisoned is not None


def test_callback_exception_reaches_the_caller_and_poisons(lib: Any, H: ModuleType) -> None:
    class Boom(Exception):
        pass

    def explode(v: Tainted[int]) -> int:
        raise Boom("from the callback")
    with pytest.raises(Boom) as err:
        lib.hostile_call(lib.callback(explode, H.hostile_cb), 1)
    assert any("hostile_call()" in note for note in err.value.__notes__)
    assert "Boom escaped hostile_call()" in str(lib.poisoned)
    with pytest.raises(PoisonedError):
        lib.hostile_ok(1)


def test_callbacks_unregister_explicitly_and_on_close(H: ModuleType,
                                                      isolating_backend: str) -> None:
    with H.sandbox(isolating_backend) as lib:
        cb = lib.callback(lambda v: 1, H.hostile_cb, "once")
        assert plain(lib.hostile_call(cb, 0)) == 1
        cb.unregister()
        cb.unregister()  # idempotent
        with pytest.raises(ArgumentError, match="callback once was unregistered"):
            lib.hostile_call(cb, 0)
        kept = lib.callback(lambda v: 1, H.hostile_cb, "kept")
    with pytest.raises(ClosedError, match="closed"):  # close() unregistered it
        kept.address_in(lib.sandbox, "after close")


def test_callbacks_of_the_wrong_type_or_sandbox_are_refused(H: ModuleType,
                                                            isolating_backend: str) -> None:
    with H.sandbox(isolating_backend) as lib, H.sandbox(isolating_backend) as other:
        data_cb = lib.callback(lambda d, n: 0, H.hostile_data_cb, "data_cb")
        with pytest.raises(ArgumentError, match=r"hostile_call\(\): argument 1 'cb': callback "
                                                r"data_cb has type \(i32, i32\) -> i32"):
            lib.hostile_call(data_cb, 1)
        with pytest.raises(ArgumentError, match="expected a callback"):
            lib.hostile_call(lib.alloc(4), 1)
        with pytest.raises(ArgumentError, match="another sandbox"):
            other.hostile_call(lib.callback(lambda v: 1, H.hostile_cb), 1)
        assert lib.poisoned is None and other.poisoned is None


def test_reentrant_callbacks_give_right_answers(lib: Any, H: ModuleType) -> None:
    def count_down(v: Tainted[int]) -> int:
        n = v.verify_range(0, 100)
        return n if n == 0 else int(plain(lib.hostile_call(cb, n - 1))) + 10
    cb = lib.callback(count_down, H.hostile_cb)
    assert plain(lib.hostile_call(cb, 20)) == 200
    assert plain(lib.hostile_ok(2)) == 4


@pytest.mark.parametrize("trap", [False, True])
def test_a_call_reads_its_own_memory_after_a_callback_ran_another_sandbox(
        H: ModuleType, isolating_backend: str, trap: bool) -> None:
    """The callback calls into another sandbox of the same library, which returns or
    traps; the first library's code then reads what it kept in its own memory, not in
    the other's (wasm2c's x86_64_v3 build reaches memory through the thread's GS base,
    which the other sandbox's call leaves at its own memory: the callback's trampoline
    sets it back)."""
    with H.sandbox(isolating_backend) as a, H.sandbox(isolating_backend) as b:
        assert plain(b.hostile_keep_across(b.callback(lambda v: 0, H.hostile_cb), 999)) == 999

        def into_b(v: Tainted[int]) -> int:
            if trap:
                with pytest.raises(TrapError):
                    b.hostile_unreachable()
            else:
                assert plain(b.hostile_ok(1)) == 2
            return 0
        assert plain(a.hostile_keep_across(a.callback(into_b, H.hostile_cb), 7)) == 7
        assert plain(a.hostile_ok(3)) == 6 and a.poisoned is None


def test_callback_depth_is_a_limit(H: ModuleType, isolating_backend: str) -> None:
    with H.sandbox(isolating_backend, limits=Limits(max_callback_depth=3)) as lib:
        def nest(v: Tainted[int]) -> int:
            n = v.verify_range(0, 100)
            return n if n == 0 else int(plain(lib.hostile_call(cb, n - 1)))
        cb = lib.callback(nest, H.hostile_cb)
        assert plain(lib.hostile_call(cb, 2)) == 0  # three callbacks deep
        with pytest.raises(ResourceError, match="3 levels deep"):
            lib.hostile_call(cb, 3)


# -- host handles ------------------------------------------------------------------------


def test_handles_round_trip_and_release(H: ModuleType, isolating_backend: str) -> None:
    with H.sandbox(isolating_backend) as lib:
        account = Account()
        h = lib.handles.new(account)
        assert 0 < h.index < 2**31 and len(lib.handles) == 1
        assert lib.handles.get(lib.hostile_echo_ptr(h), Account) is account
        assert lib.handles.get(lib.hostile_echo_ptr(h)) is account
        assert lib.handles.get(lib.hostile_forge(None, h.index), Account) is account
        with lib.handles.new("x") as other:
            assert other.index not in (0, h.index)
        assert other.index == 0 and len(lib.handles) == 1
        with pytest.raises(ArgumentError, match="released"):
            lib.hostile_echo_ptr(other)
        with pytest.raises(TaintError, match="tainted value"):
            lib.handles.get(h.index)  # a plain int is the host's own, not a looked-up value
        with pytest.raises(ArgumentError, match=r"handles\.new\(obj\)"):
            lib.hostile_echo_ptr(account)  # a host object itself never goes in
        kept = lib.handles.new(account)
    assert h.index == 0 and kept.index == 0 and len(lib.handles) == 0
    with pytest.raises(PoisonedError):
        lib.handles.new(account)


def test_handles_belong_to_one_sandbox(H: ModuleType, isolating_backend: str) -> None:
    with H.sandbox(isolating_backend) as a, H.sandbox(isolating_backend) as b:
        h = a.handles.new(Account())
        with pytest.raises(ArgumentError, match="another sandbox"):
            b.hostile_echo_ptr(h)
        with pytest.raises(TaintError, match="another sandbox"):
            b.handles.get(a.hostile_echo_ptr(h), Account)


HANDLES_TYPED = """
import hostile


class Account:
    balance = 0


with hostile.sandbox() as lib:
    h = lib.handles.new(Account())
    p = lib.hostile_echo_ptr(h)
    balance: int = lib.handles.get(p, Account).balance
    {bad}
"""


def test_mypy_types_handles_through_the_generated_stubs(H: ModuleType, packages: Path,
                                                         tmp_path: Path) -> None:
    bad = {"lib.hostile_echo_ptr(Account())": 'Argument 1 to "hostile_echo_ptr" of "Hostile" '
                                              'has incompatible type "Account"',
           "lib.handles.get(h.index)": 'No overload variant of "get" of "HandleTable" '
                                       'matches argument type "int"',
           "n: int = lib.handles.get(p)": 'expression has type "object", variable has type'}
    (tmp_path / "good.py").write_text(HANDLES_TYPED.format(bad="pass"))
    (tmp_path / "bad.py").write_text(HANDLES_TYPED.format(bad="\n    ".join(bad)))
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
           "--no-incremental", "--cache-dir", str(tmp_path / ".mypy")]
    env = {**os.environ, "MYPYPATH": str(packages)}
    ok = subprocess.run([*cmd, str(tmp_path / "good.py")], capture_output=True, text=True,
                        cwd=ROOT, env=env)
    assert ok.returncode == 0, ok.stdout
    out = subprocess.run([*cmd, str(tmp_path / "bad.py")], capture_output=True, text=True,
                         cwd=ROOT, env=env).stdout
    for message in bad.values():
        assert message in out, out


# -- capabilities ------------------------------------------------------------------------


def test_stdout_and_stderr_only_when_granted(H: ModuleType, isolating_backend: str,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    with H.sandbox(isolating_backend) as lib:
        lib.hostile_print("out-denied")
        lib.hostile_eprint("err-denied")
    out, err = capfd.readouterr()
    assert "denied" not in out + err
    with H.sandbox(isolating_backend, grants=Grants(stdout=True)) as lib:
        lib.hostile_print("out-granted")
        lib.hostile_eprint("err-still-denied")
    with H.sandbox(isolating_backend, grants=Grants(stderr=True)) as lib:
        lib.hostile_eprint("err-granted")
    out, err = capfd.readouterr()
    assert "out-granted" in out and "err-granted" in err
    assert "denied" not in out + err


STDIN_PROBE = """
import sys
sys.path.insert(0, {packages!r})
import hostile
from sandboxlib import Grants
for grants in (Grants(), Grants(stdin=True)):
    with hostile.sandbox({backend!r}, grants=grants) as lib, lib.alloc(64) as out:
        n = lib.hostile_read_stdin(out, 64).verify_range(-1, 64)
        print(max(n, 0), out.read(max(n, 0)).unverified_safe_because("printed"))
"""


def test_stdin_only_when_granted(H: ModuleType, isolating_backend: str, packages: Path) -> None:
    code = STDIN_PROBE.format(packages=str(packages), backend=isolating_backend)
    proc = subprocess.run([sys.executable, "-c", code], input=b"typed by the user",
                          capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == ["0 b''", "17 b'typed by the user'"]


def test_directories_only_when_granted_and_read_only_unless_writable(
        H: ModuleType, isolating_backend: str, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"granted contents")
    with H.sandbox(isolating_backend) as lib, lib.alloc(64) as out:
        for path in ("/etc/passwd", str(tmp_path / "in.txt"), "in.txt", "/data/in.txt"):
            assert plain(lib.hostile_read_file(path, out, 64)) == -1
        assert plain(lib.hostile_write_file(str(tmp_path / "new.txt"), "x")) == -1
    read_only = Grants(dirs=(Preopen(str(tmp_path), "/data"),))
    with H.sandbox(isolating_backend, grants=read_only) as lib, lib.alloc(64) as out:
        assert plain(lib.hostile_read_file("/data/in.txt", out, 64)) == 16
        assert plain(out.read(16)) == b"granted contents"
        assert plain(lib.hostile_read_file("/data/../../etc/passwd", out, 64)) == -1
        assert plain(lib.hostile_write_file("/data/new.txt", "x")) == -1
        assert plain(lib.hostile_write_file("/data/in.txt", "overwritten")) == -1
    assert sorted(os.listdir(tmp_path)) == ["in.txt"]
    assert (tmp_path / "in.txt").read_bytes() == b"granted contents"
    writable = Grants(dirs=(Preopen(str(tmp_path), "/data", writable=True),))
    with H.sandbox(isolating_backend, grants=writable) as lib:
        assert plain(lib.hostile_write_file("/data/new.txt", "written")) == 7
        assert plain(lib.hostile_write_file("/data/../escape.txt", "x")) == -1
    assert (tmp_path / "new.txt").read_bytes() == b"written"
    assert not (tmp_path.parent / "escape.txt").exists()


def test_environment_clock_and_random_only_when_granted(H: ModuleType,
                                                       isolating_backend: str) -> None:
    os.environ["SANDBOXLIB_GRANTED"] = "visible"
    os.environ["SANDBOXLIB_SECRET"] = "s3cret"
    with H.sandbox(isolating_backend) as lib:
        assert lib.hostile_getenv("SANDBOXLIB_GRANTED").is_null()
        assert plain(lib.hostile_clock()) == -1
        assert plain(lib.hostile_random()) == -1
    grants = Grants(env=Grants.env_from_host("SANDBOXLIB_GRANTED"), clock=True, random=True)
    with H.sandbox(isolating_backend, grants=grants) as lib:
        assert plain(lib.hostile_getenv("SANDBOXLIB_GRANTED").copy_string(16)) == b"visible"
        assert lib.hostile_getenv("SANDBOXLIB_SECRET").is_null()
        assert abs(lib.hostile_clock().verify_range(0, 2**62) - time.time()) < 60
        assert plain(lib.hostile_random()) == 1


def test_a_freed_small_block_is_kept_for_the_next_of_its_size(isolating_backend: str,
                                                              packages: Path) -> None:
    """out() and alloc() reuse a freed block of their size without asking the sandbox's
    malloc (this one never reuses a block): a cell is zeroed again; a block of another
    size, or none kept, comes from malloc and is checked."""
    A = hostile_package("hostile_alloc", packages)
    with A.sandbox(isolating_backend) as lib:
        cell, block = lib.out(Prim.INT, initial=7), lib.alloc(16)
        kept = cell.address, block.address
        cell.free()
        block.free()
        lib.hostile_alloc_mode(A.HOSTILE_ALLOC_WILD)
        again = lib.out(Prim.UINT)
        assert (again.address, lib.alloc(16).address) == kept and plain(again.value) == 0
        with pytest.raises(BoundsError, match=r"out\(\): the sandbox's malloc\(4\) returned"):
            lib.out(Prim.INT)
        with pytest.raises(BoundsError, match=r"alloc\(\): the sandbox's malloc\(16\) returned"):
            lib.alloc(16)


# a macro that doubles forty times: A25 is 2**25 tokens (clang held 1.9 GB for them)
MACRO_BOMB = "\n".join(["#define A0 +1",
                        *(f"#define A{i} A{i - 1} A{i - 1}" for i in range(1, 41))])


@pytest.mark.parametrize("step", ["preprocess", "compile"])
def test_c_made_to_exhaust_the_compiler_is_stopped_at_the_build_limits(
        step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Header and source are input too: a macro expanding to 2**24 tokens took clang 1 GB
    (2**30 of them would take the machine's memory, with the host holding all clang
    printed). Preprocessing a header, compiling a source to wasm32 and asking the
    compiler for layouts run bounded as a module's build does: here at 300 MiB."""
    from sandboxlib.codegen.preprocess import preprocess
    from sandboxlib.toolchain.zig import build_wasm
    header = tmp_path / "bomb.h"
    header.write_text(MACRO_BOMB + "\nint f(void);\n" + ("A24\n" if step == "preprocess" else ""))
    source = tmp_path / "bomb.c"
    source.write_text('#include "bomb.h"\nint f(void) { return 0 A24; }\n')
    monkeypatch.setenv("SANDBOXLIB_BUILD_MEMORY_MIB", "300")
    with pytest.raises(BuildError, match="ran out of the 300 MiB .* a macro expanding"):
        if step == "preprocess":
            preprocess([header])
        else:
            build_wasm([source], exports=["f"], name="bomb")
