"""The skeleton every drop-in is built from (``sandboxlib.wrapped._skeleton``): one rule
choosing the backend (``Library.sandbox`` and each drop-in), one way a drop-in loads its
generated package (typed by the stub the generator wrote), one per-thread sandbox with
its guards (re-entered calls, failures, forked children)."""

from __future__ import annotations

import ast
import importlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from libs import ROOT, sample_library

import sandboxlib.wrapped.expat as wx
import sandboxlib.wrapped.image as wim
import sandboxlib.wrapped.lz4 as wl
import sandboxlib.wrapped.stb_image as wi
import sandboxlib.wrapped.zlib as wz
from sandboxlib import SandboxError, UnknownBackendError
from sandboxlib.backends import BACKENDS
from sandboxlib.runtime.backend_name import BACKEND_ENV, resolve_backend
from sandboxlib.runtime.sandbox import Sandbox
from sandboxlib.wrapped._skeleton import GeneratedPackage, Kept, PerThread

WRAPPED = ROOT / "sandboxlib" / "wrapped"
DROP_INS = ["zlib", "expat", "lz4", "stb_image"]
# Each generated package a drop-in loads: (its module, its spec, its stub), by a name
PACKAGES = {**{name: (f"sandboxlib.wrapped.{name}._package", WRAPPED / name / f"{name}.toml",
                      WRAPPED / name / "_package.pyi") for name in DROP_INS},
            **{f"image.{f}": (f"sandboxlib.wrapped.image._{f}", WRAPPED / "image" / f"{f}.toml",
                              WRAPPED / "image" / f"_{f}.pyi")
               for f in ("png", "gif", "jpeg", "webp")}}
# the smallest PNG: one grey pixel
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
                    "0000000a49444154789c636000000002000148afa4710000000049454e44ae426082")


def package(name: str) -> ModuleType:
    return importlib.import_module(PACKAGES["image.png" if name == "image" else name][0])


def not_an_image(backend: str | None) -> None:
    with pytest.raises(wi.ImageError):
        wi.info(b"not an image", backend=backend)


# Every public way to get a sandbox: name -> a call that opens one on ``backend``.
ENTRIES: dict[str, Callable[[str | None], object]] = {
    "library": lambda b: sample_library().sandbox(b).close(),
    "zlib": lambda b: wz.crc32(b"x", backend=b),
    "zlib.compressobj": lambda b: wz.compressobj(backend=b),
    "expat": lambda b: wx.ErrorString(1, backend=b),
    "expat.ParserCreate": lambda b: wx.ParserCreate(backend=b).close(),
    "lz4": lambda b: wl.compress(b"x", backend=b),
    "stb_image": not_an_image,
    "image": lambda b: wim.open(PNG, backend=b),
}


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(library, backend) of each sandbox made during the test."""
    made: list[tuple[str, str]] = []
    real = Sandbox.__init__

    def spy(self: Sandbox, library: Any, backend: str = "wasmtime", **options: Any) -> None:
        made.append((library.name, backend))
        real(self, library, backend, **options)

    monkeypatch.setattr(Sandbox, "__init__", spy)
    yield made


def in_new_thread(call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` in a thread of its own (it has no per-thread sandbox yet); what it
    raised, if anything."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return raised[0] if raised else None


def set_env(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv(BACKEND_ENV, raising=False)
    else:
        monkeypatch.setenv(BACKEND_ENV, value)


# -- the backend ------------------------------------------------------------------------


def test_the_backend_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, None)
    assert resolve_backend() == resolve_backend("") == "wasmtime"
    set_env(monkeypatch, "")  # empty is not set
    assert resolve_backend() == "wasmtime"
    set_env(monkeypatch, "native")
    assert resolve_backend() == resolve_backend("") == "native"
    assert resolve_backend("wasm2c") == "wasm2c"  # the argument first
    for given, env, where in (("nope", "native", False), (None, "nope", True)):
        set_env(monkeypatch, env)
        with pytest.raises(UnknownBackendError) as info:
            resolve_backend(given)
        assert isinstance(info.value, ValueError) and isinstance(info.value, SandboxError)
        assert all(name in str(info.value) for name in ("'nope'", *BACKENDS))
        assert (BACKEND_ENV in str(info.value)) == where


# (argument, $SANDBOXLIB_BACKEND (None: unset), the backend used)
CHOICES = [(None, None, "wasmtime"), (None, "", "wasmtime"), ("", "", "wasmtime"),
           (None, "native", "native"), ("", "native", "native"), ("wasm2c", "native", "wasm2c")]


@pytest.mark.parametrize(("given", "env", "used"), CHOICES)
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_library_and_every_drop_in_choose_the_backend_alike(
        entry: str, given: str | None, env: str | None, used: str,
        opened: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, env)
    assert in_new_thread(lambda: ENTRIES[entry](given)) is None
    assert opened and {backend for _, backend in opened} == {used}


@pytest.mark.parametrize(("given", "env"), [("nope", "native"), (None, "nope")])
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_an_unknown_backend_is_refused_everywhere_naming_the_known_ones(
        entry: str, given: str | None, env: str, opened: list[tuple[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, env)
    raised = in_new_thread(lambda: ENTRIES[entry](given))  # zlib too: misuse, not zlib.error
    assert isinstance(raised, UnknownBackendError) and isinstance(raised, ValueError)
    assert all(name in str(raised) for name in ("'nope'", *BACKENDS))
    assert not opened


# -- the skeleton, in every drop-in -----------------------------------------------------


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_each_drop_in_loads_its_generated_package_through_the_skeleton(name: str) -> None:
    module = package(name)
    _, spec, committed = PACKAGES[name]
    loader = vars(module)["__getattr__"]
    assert isinstance(loader, GeneratedPackage)
    assert loader.spec == spec
    generated = loader.load()
    assert module.sandbox is generated.sandbox and module.LIBRARY is generated.LIBRARY
    assert generated.__file__ is not None
    stub = Path(generated.__file__).with_name("__init__.pyi")
    assert committed.read_text() == stub.read_text(), (
        f"the generator's stub changed; mypy checks {name} against the old one: "
        f"cp {stub} {committed}")


@pytest.mark.parametrize("entry", sorted(set(ENTRIES) - {"library"}))
def test_each_drop_in_opens_its_sandboxes_from_its_package(
        entry: str, opened: list[tuple[str, str]]) -> None:
    assert in_new_thread(lambda: ENTRIES[entry](None)) is None
    assert {lib for lib, _ in opened} == {package(entry.split(".")[0]).LIBRARY.name}


def test_module_level_functions_keep_their_sandboxes_with_per_thread() -> None:
    from sandboxlib.wrapped.expat import _library
    from sandboxlib.wrapped.zlib import _core
    for kept in (_core._sessions, wl._blocks, _library._sandboxes):
        assert isinstance(kept, PerThread)


def dotted(node: ast.expr) -> str:
    return f"{dotted(node.value)}.{node.attr}" if isinstance(node, ast.Attribute) else \
        node.id if isinstance(node, ast.Name) else ""


def test_what_the_skeleton_does_no_drop_in_does_itself() -> None:
    """No drop-in loads a package, reads the environment, keeps thread-local state or
    declares its proxy by hand: the skeleton does."""
    refused = {"load_generated", "sandboxlib.codegen.packages", "BACKEND_ENV", "os.environ",
               "os.getenv", "threading.local", "Protocol"}
    found = []
    for path in WRAPPED.rglob("*.py"):
        if "_skeleton" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or "", *(a.name for a in node.names)]
                     if isinstance(node, ast.ImportFrom) else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else
                     [dotted(node)] if isinstance(node, ast.Attribute) else [])
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n in refused]
    assert not found
    for name in DROP_INS:
        assert (WRAPPED / name / "_package.py").is_file()


# -- PerThread ----------------------------------------------------------------------------


class FakeProxy:
    poisoned: str | None = None
    closed = False

    def close(self) -> None:
        self.closed = True


class Box(Kept[Any]):
    def __init__(self, backend: str) -> None:
        super().__init__(FakeProxy())
        self.backend = backend


def test_a_thread_reuses_its_sandbox_per_backend_until_it_fails() -> None:
    boxes = PerThread(Box)
    with boxes.borrow("native") as first:
        pass
    with boxes.borrow("native") as again, boxes.borrow("wasm2c") as other:
        assert again is first and other is not first and other.backend == "wasm2c"
    with pytest.raises(KeyError), boxes.borrow("native"):
        raise KeyError("a failed call")
    assert first.closed and first.lib.closed and boxes.cached("native") is None
    with boxes.borrow("native") as poisoned:
        poisoned.lib.poisoned = "a trap"
    assert poisoned.closed and boxes.cached("native") is None  # not reusable: dropped
    with boxes.borrow("native") as fresh:
        assert fresh is not poisoned


def test_keep_on_is_a_failure_that_leaves_the_sandbox_in_use() -> None:
    boxes = PerThread(Box, keep_on=(ValueError,))
    with pytest.raises(ValueError), boxes.borrow("native") as kept:
        raise ValueError("bad input")
    assert boxes.cached("native") is kept and not kept.closed


def test_a_call_re_entered_on_the_thread_never_shares_the_running_sandbox() -> None:
    boxes = PerThread(Box)
    with boxes.borrow("native") as outer:
        with boxes.borrow("native") as inner:  # a callback, a finalizer
            assert inner is not outer
        assert inner.closed and not outer.closed

    def generator() -> Iterator[Box]:
        with boxes.borrow("native") as kept:
            yield kept

    suspended = generator()
    held = next(suspended)  # a generator paused inside a call
    with boxes.borrow("native") as meanwhile:
        assert meanwhile is not held
    assert next(suspended, None) is None  # the paused call ends
    assert boxes.cached("native") is held is outer and not held.closed


def test_a_forked_child_neither_uses_nor_closes_its_parents_sandboxes() -> None:
    boxes = PerThread(Box)
    with boxes.borrow("native") as parents:
        pass
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with boxes.borrow("native") as childs:
                code = 0 if childs is not parents and not parents.closed else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert boxes.cached("native") is parents and not parents.closed


def test_zlibs_earlier_name_for_its_package_still_names_it() -> None:
    from sandboxlib.wrapped.zlib import _library
    assert _library.GENERATED is package("zlib")
