from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from libs import hostile_library, sample_library  # noqa: E402

from sandboxlib import Library, Sandbox  # noqa: E402

ISOLATING_BACKENDS = ["wasmtime", "wasm2c"]
ALL_BACKENDS = [*ISOLATING_BACKENDS, "native"]


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
