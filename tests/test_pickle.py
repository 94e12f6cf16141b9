"""Picklable parts, for running sandboxes in other processes (Dask workers and the like):
a ``Library`` pickles as its description (never its memo of compiled state), the
settings as values, and an ``Opener`` names a library for a worker to open."""

from __future__ import annotations

import multiprocessing
import pickle
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from libs import C_SRC, plain, sample_library

from sandboxlib import Grants, Library, Limits, Preopen
from sandboxlib.toolchain.cache import cache_root
from sandboxlib.workers import Opener, worker_pool


def entries() -> set[str]:
    root = cache_root()
    return {f"{kind.name}/{e.name}" for kind in root.iterdir()
            if kind.is_dir() and not kind.name.startswith(".") for e in kind.iterdir()
            if not e.name.startswith(".")}


def test_a_library_pickles_as_its_description_with_a_fresh_memo() -> None:
    lib = sample_library()
    with lib.sandbox("wasmtime") as sb:  # fills the memo: built and pre-initialized module
        assert plain(sb.sample_add(2, 3)) == 5
    assert lib._loaded.values()
    data = pickle.dumps(lib)
    assert b"sandboxlib.once" not in data and b"_loaded" not in data  # no memo, no locks
    copy = pickle.loads(data)
    assert copy is not lib and copy._loaded is not lib._loaded
    assert copy._loaded.values() == []
    assert copy.description() == lib.description() and copy.wasm is None
    with copy.sandbox("wasmtime") as sb:
        assert plain(sb.sample_add(40, 2)) == 42
    assert copy.built_module() == lib.built_module()  # the same cache entry


@pytest.mark.quick
def test_settings_pickle_as_values() -> None:
    limits = Limits(memory_bytes=1 << 20, fuel=10_000, timeout=2.5)
    grants = Grants(stdout=True, dirs=(Preopen(str(C_SRC), "/src"),), env=(("A", "1"),))
    for value in (limits, grants, grants.dirs[0]):
        copy = pickle.loads(pickle.dumps(value))
        assert copy == value and hash(copy) == hash(value)


def test_an_opener_pickles_and_names_the_same_pool() -> None:
    by_value = Opener(sample_library(), "wasmtime", limits=Limits(memory_bytes=16 << 20))
    by_name = Opener("sandboxlib.wrapped.zlib._package", "wasmtime")
    for opener in (by_value, by_name):
        a, b = pickle.loads(pickle.dumps(opener)), pickle.loads(pickle.dumps(opener))
        assert a == b == opener and hash(a) == hash(opener)
        assert worker_pool(a) is worker_pool(b)  # one pool per process for equal openers
    with worker_pool(pickle.loads(pickle.dumps(by_value))).sandbox() as sb:
        assert plain(sb.sample_add(1, 2)) == 3
        assert sb.limits.memory_bytes == 16 << 20
    with worker_pool(by_name).sandbox() as z:   # the generated zlib package's proxy
        assert plain(z.crc32_z(0, b"hello", 5)) == zlib.crc32(b"hello")
    assert Opener("sandboxlib.wrapped.zlib:decompressobj") != by_name


def test_a_generated_packages_library_pickles() -> None:
    from sandboxlib.wrapped.zlib import _package
    lib: Library = _package.LIBRARY
    copy = pickle.loads(pickle.dumps(lib))
    assert copy.description() == lib.description() and copy.wasm == lib.wasm
    with copy.sandbox("wasmtime") as sb:
        assert plain(sb.crc32_z(0, 0, 0)) == 0


def open_in_child(lib: Library) -> tuple[int, Path, bool]:
    before = entries()
    with lib.sandbox("wasmtime") as sb:
        answer = plain(sb.sample_add(20, 22))
    return answer, lib.built_module(), entries() == before


def test_a_pickled_library_opens_in_a_spawned_process_without_rebuilding() -> None:
    lib = sample_library(defines=("SAMPLE_PICKLED=1",))
    with lib.sandbox("wasmtime") as sb:  # built here first: the child finds it in the cache
        assert plain(sb.sample_add(1, 1)) == 2
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        answer, built, nothing_new = pool.submit(open_in_child, lib).result(timeout=120)
    assert answer == 42
    assert built == lib.built_module()
    assert nothing_new  # no cache entry was added in the child: nothing was built again
