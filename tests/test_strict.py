"""Strict temporaries (sandboxlib/runtime/strict.py): a library that keeps a pointer to a
call's copy of a ``bytes`` argument reads poison afterwards, on every backend alike,
never stale or foreign data; ``lib.keep(data)`` is the fix and keeps working."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from libs import C_SRC, import_from, plain

from sandboxlib import set_strict
from sandboxlib.codegen.generate import WrapRequest, wrap
from sandboxlib.runtime.strict import POISON, strict

KEPT = C_SRC / "kept"
BACKENDS = ["wasmtime", "wasm2c", "native"]


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    out = tmp_path_factory.mktemp("kept")
    wrap(WrapRequest("kept", [KEPT / "kept.h"], [KEPT / "kept.c"]), out)
    return import_from(out, "kept")


@pytest.fixture
def strict_mode() -> Iterator[None]:
    was = strict()
    set_strict(True)
    yield
    set_strict(was)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", [5, 100_000], ids=["small", "large"])
def test_a_kept_temporary_reads_poison_on_every_backend(kept: ModuleType, backend: str,
                                                        size: int, strict_mode: None) -> None:
    text = b"h" + b"e" * (size - 1)
    with kept.sandbox(backend) as lib:
        lib.kept_remember(text)
        assert plain(lib.kept_byte_at(0)) == POISON
        assert plain(lib.kept_length(b"another call's argument")) == 23  # no reuse
        assert plain(lib.kept_byte_at(0)) == POISON
        assert plain(lib.kept_byte_at(size - 1)) == POISON


@pytest.mark.parametrize("backend", BACKENDS)
def test_keep_is_the_fix(kept: ModuleType, backend: str, strict_mode: None) -> None:
    with kept.sandbox(backend) as lib:
        held = lib.keep(b"hello")
        lib.kept_remember(held)
        assert plain(lib.kept_length(b"another call's argument")) == 23
        assert [plain(lib.kept_byte_at(i)) for i in range(5)] == list(b"hello")


def test_the_test_suite_runs_strict() -> None:
    """conftest.py turns it on for every test, so a drop-in keeping a pointer fails here."""
    assert strict()


def test_a_sandbox_takes_the_setting_when_it_is_created(kept: ModuleType) -> None:
    set_strict(False)
    try:
        with kept.sandbox("wasmtime") as loose:
            set_strict(True)
            loose.kept_remember(b"hello")
            assert plain(loose.kept_byte_at(0)) == ord("h")  # the reused scratch area
    finally:
        set_strict(True)
    with kept.sandbox("wasmtime") as tight:
        tight.kept_remember(b"hello")
        assert plain(tight.kept_byte_at(0)) == POISON

