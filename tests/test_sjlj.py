"""setjmp/longjmp: a C library whose error path is longjmp (c_src/sjlj/), wrapped with
``sandboxlib wrap`` as any other, runs alike on every backend; a longjmp that would
unwind through the host (a callback re-entering the sandbox and jumping to a setjmp
of the call that called the host) ends as a TrapError poisoning that sandbox only.
The hostile modules of c_src/hostile/modules/ (tag_*, throw_*) cover the same from
hand-written WebAssembly."""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

import pytest
from libs import C_SRC, plain, wrap_package

from sandboxlib import Limits, PoisonedError, ResourceError, TrapError
from sandboxlib.errors import TrapKind

SJLJ = C_SRC / "sjlj"
ISOLATING = ["wasmtime", "wasm2c"]


@pytest.fixture(scope="module")
def sjlj(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return wrap_package("sjlj", SJLJ / "sjlj.h", [SJLJ / "sjlj.c"],
                        tmp_path_factory.mktemp("sjlj"))


def message(buf: Any) -> bytes:
    return bytes(plain(buf.read())).split(b"\0")[0]


@pytest.mark.parametrize("text, result, expected", [
    ("1,2,3", 6, b""),
    ("1,x", -1, b"bad digit 'x' at 2"),
    ("12;3", -1, b"bad separator ';' at 2"),
    ("7,", -1, b"bad digit '$' at 2"),
    ("99999999999", -1, b"number too large at 0"),
])
@pytest.mark.parametrize("backend", [*ISOLATING, "native"])
def test_the_error_path_longjmps_with_its_message(sjlj: ModuleType, backend: str, text: str,
                                                  result: int, expected: bytes) -> None:
    with sjlj.sandbox(backend=backend) as lib:
        buf = lib.alloc(sjlj.SJ_MESSAGE_SIZE)
        assert plain(lib.sj_sum(text, buf, sjlj.SJ_MESSAGE_SIZE)) == result
        assert message(buf) == expected
        assert plain(lib.sj_sum("40,2", buf, sjlj.SJ_MESSAGE_SIZE)) == 42  # still usable


@pytest.mark.parametrize("backend", [*ISOLATING, "native"])
def test_nested_setjmps_land_where_they_were_set(sjlj: ModuleType, backend: str) -> None:
    with sjlj.sandbox(backend=backend) as lib:
        for depth, target in ((1, 0), (10, 3), (100, 99), (100, 0)):
            assert plain(lib.sj_nested(depth, target)) == target
        assert plain(lib.sj_nested(0, 0)) == -1
        assert [plain(lib.sj_sig(v)) for v in (5, 0, -3)] == [5, 1, -3]  # sigsetjmp too


@pytest.mark.parametrize("backend", [*ISOLATING, "native"])
def test_a_longjmp_after_a_callback_returned(sjlj: ModuleType, backend: str) -> None:
    with sjlj.sandbox(backend=backend) as lib:
        seen: list[int] = []

        def visit(user: Any, value: Any) -> int:
            seen.append(plain(value))
            return -1 if seen[-1] == 13 else 0
        buf = lib.alloc(sjlj.SJ_MESSAGE_SIZE)
        cb = lib.callback(visit, sjlj.sj_visit)
        assert plain(lib.sj_each("1,2,13,4", cb, None, buf, sjlj.SJ_MESSAGE_SIZE)) == -1
        assert message(buf) == b"13 rejected by the visitor" and seen == [1, 2, 13]


@pytest.mark.parametrize("backend", ISOLATING)
def test_a_longjmp_out_past_the_host_is_a_trap_poisoning_that_sandbox_only(
        sjlj: ModuleType, backend: str) -> None:
    """The callback calls sj_fail, which longjmps to sj_each's setjmp: through the
    callback's host frames. It must not land there (sj_each would return -1 with
    "failed with 7"); the inner call traps, and its TrapError ends the outer call."""
    with sjlj.sandbox(backend=backend) as bystander, sjlj.sandbox(backend=backend) as lib:
        kept = bystander.copy_in(b"bystander")
        buf = lib.alloc(sjlj.SJ_MESSAGE_SIZE)
        inner: list[BaseException] = []

        def escape(user: Any, value: Any) -> int:
            try:
                lib.sj_fail(7)
            except TrapError as exc:
                inner.append(exc)
                raise
            return 0
        cb = lib.callback(escape, sjlj.sj_visit)
        with pytest.raises(TrapError) as caught:
            lib.sj_each("1,2", cb, None, buf, sjlj.SJ_MESSAGE_SIZE)
        assert caught.value.kind is TrapKind.UNCAUGHT_EXCEPTION
        assert [type(e) for e in inner] == [TrapError]
        # named as where it was thrown: the function longjmp throws from
        assert re.search(r"uncaught exception in \w*longjmp\b", str(inner[0])), inner[0]
        with pytest.raises(PoisonedError):
            lib.sj_sum("1", buf, sjlj.SJ_MESSAGE_SIZE)
        assert plain(bystander.sj_sum("40,2", bystander.alloc(8), 8)) == 42
        assert plain(kept.read()) == b"bystander"


@pytest.mark.parametrize("backend", ISOLATING)
def test_the_memory_limit_is_the_modules_own(sjlj: ModuleType, backend: str) -> None:
    """wasmtime keeps thrown exceptions in a GC heap, a memory of its own made at
    instantiation: the module's memory still gets the whole limit, and no more."""
    with sjlj.sandbox(backend=backend, limits=Limits(memory_bytes=32 << 20)) as lib:
        lib.alloc(12 << 20)
        with pytest.raises(ResourceError):
            lib.alloc(32 << 20)
        assert plain(lib.sj_sum("1,x", lib.alloc(64), 64)) == -1


@pytest.mark.parametrize("backend", ISOLATING)
def test_a_snapshot_after_a_longjmp_starts_sandboxes_that_longjmp(sjlj: ModuleType,
                                                                  backend: str) -> None:
    with sjlj.sandbox(backend=backend) as lib:
        assert plain(lib.sj_sum("1,x", lib.alloc(64), 64)) == -1
        snap = lib.snapshot()
    with snap.sandbox() as fresh:
        buf = fresh.alloc(64)
        assert plain(fresh.sj_sum("9,y", buf, 64)) == -1
        assert message(buf) == b"bad digit 'y' at 2"
