from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# strict temporaries (sandboxlib/runtime/strict.py) in every test and every process a
# test starts: a library keeping a pointer to a call's copy reads poison, not old data
os.environ["SANDBOXLIB_STRICT"] = "1"

from libs import hostile_library, sample_library  # noqa: E402

from sandboxlib import Library, Sandbox  # noqa: E402
from sandboxlib.toolchain.guard import compiling_disabled  # noqa: E402

ISOLATING_BACKENDS = ["wasmtime", "wasm2c"]
ALL_BACKENDS = [*ISOLATING_BACKENDS, "native"]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The quick tier (``make quick``: ``-m quick``, compiling disabled) does not import a
    test module that marks no test ``quick``: importing some (the drop-ins') builds a
    library, which the guard refuses and a fast run should not wait for."""
    quick = compiling_disabled() or config.getoption("markexpr") == "quick"
    if quick and collection_path.name.startswith("test_") and collection_path.suffix == ".py":
        return "mark.quick" not in collection_path.read_text(encoding="utf-8") or None
    return None


@pytest.fixture(scope="session")
def sample_lib() -> Library:
    return sample_library()


@pytest.fixture(scope="session")
def hostile_lib() -> Library:
    return hostile_library()


@pytest.fixture(params=ALL_BACKENDS)
def sample(request: pytest.FixtureRequest, sample_lib: Library) -> Iterator[Sandbox]:
    """A fresh sample sandbox on every backend."""
    with sample_lib.sandbox(request.param) as sb:
        yield sb


@pytest.fixture(params=ISOLATING_BACKENDS)
def isolating_backend(request: pytest.FixtureRequest) -> str:
    """Each backend that isolates (the containment tests run on all of them)."""
    return str(request.param)
