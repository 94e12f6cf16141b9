"""A library description: its exported functions and how to build it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from .abi import Function
from .config import Grants, Limits
from .once import Memo
from .runtime.backend_name import BACKEND_ENV as BACKEND_ENV  # where it was defined before
from .runtime.backend_name import resolve_backend
from .runtime.sandbox import Sandbox

DEFAULT_STACK_SIZE = 128 << 10
T = TypeVar("T")


@dataclass(eq=False)
class Library:
    """A C library: functions to export, and either a built module or its sources.

    ``wasm`` is a prebuilt module (as a generated package ships it); without one the
    module is compiled from ``sources`` on first use. The native backend always
    compiles ``sources`` (with ``headers`` included) for the host.

    A library pickles as its description alone (the fields above): what it built or
    loaded in this process (``memo``) stays here, and an unpickled copy starts with
    an empty memo of its own; it finds its builds in the build cache (by content),
    so a worker process on this machine, or one sharing the cache, does not compile
    again. Its paths must exist where it is unpickled (see ``sandboxlib.workers``
    for naming a library by import path instead).
    """

    name: str
    functions: tuple[Function, ...]
    wasm: Path | None = None
    sources: tuple[Path, ...] = ()
    headers: tuple[Path, ...] = ()
    include_dirs: tuple[Path, ...] = ()
    defines: tuple[str, ...] = ()
    cflags: tuple[str, ...] = ()
    stack_size: int = DEFAULT_STACK_SIZE
    preinit: bool = True  # run the start-up once and start every sandbox from its image
    _loaded: Memo[Hashable, Any] = field(default_factory=Memo, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {fn.name: fn for fn in self.functions}

    def function(self, name: str) -> Function:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no function {name!r}") from None

    def built_module(self) -> Path:
        """The module as compiled (or given), before pre-initialization."""
        if self.wasm is not None:
            return self.wasm
        from .toolchain import build_wasm
        return self.memo("built", lambda: build_wasm(
            self.sources, exports=[fn.name for fn in self.functions], name=self.name,
            include_dirs=self.include_dirs, defines=self.defines, cflags=self.cflags,
            stack_size=self.stack_size))

    def wasm_module(self, grants: Grants | None = None, limits: Limits | None = None) -> Path:
        """The module a sandbox with ``grants`` and ``limits`` runs: built from the
        sources if not given (cached by content), then pre-initialized (its start-up
        run once, with no capabilities, under the first sandbox's limits: see
        ``toolchain.preinit``). A sandbox runs the built module and its start-up
        itself if ``preinit`` is off, if it was granted anything (so that its
        constructors see what it was granted) or if the image does not fit its
        memory limit. Every module is checked against the ABI's shape first
        (``toolchain.moduleshape``): a refused one is neither run nor cached, and one
        whose initial memory or table exceeds ``limits`` is refused (ResourceError)
        before anything compiles it."""
        built = self.built_module()
        from .toolchain.moduleshape import check_limits, check_module
        shape = self.memo(("shape", built), lambda: check_module(built.read_bytes(), self.name))
        limits = limits or Limits()
        check_limits(shape, limits)
        if not self.preinit or (grants is not None and grants != Grants()):
            return built
        from .toolchain.preinit import preinitialized
        image, needs = self.memo("preinit", lambda: preinitialized(built, limits, self.name))
        return image if needs <= limits.memory_bytes else built

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """State memoized on the library by ``key`` (the pre-initialized module, a
        backend's compiled module per settings): ``build()`` runs once per key, also
        when threads ask at once (see ``Memo``)."""
        return cast(T, self._loaded.get(key, build))

    def description(self) -> tuple[Hashable, ...]:
        """The fields that say what this library is (all but the memo): equal
        descriptions build and run the same module."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "_loaded")

    def __getstate__(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_loaded"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._loaded = Memo()
        self.__post_init__()

    def sandbox(self, backend: str | None = None, *, limits: Limits | None = None,
                grants: Grants | None = None) -> Sandbox:
        """A fresh sandbox of this library on ``backend`` (see ``resolve_backend``: by
        default $SANDBOXLIB_BACKEND, else wasmtime)."""
        return Sandbox(self, resolve_backend(backend), limits=limits, grants=grants)
