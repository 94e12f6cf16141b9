"""Hostile C in a library's start-up: its constructors run before any call, once
for a pre-initialized image or in each sandbox granted a capability. Limits and
grants hold there as in any call (c_src/hostile/hostile_startup.c)."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

import pytest
from libs import hostile_package, packages, plain  # noqa: F401 fixtures

from sandboxlib import Grants, Limits, ResourceError

MiB = 1 << 20
OWN_STARTUP = Grants(stdout=True)  # a sandbox granted anything runs its own start-up


def package(name: str, packages: Path) -> ModuleType:
    return hostile_package(name, packages)


@pytest.mark.parametrize("grants", [None, OWN_STARTUP], ids=["image", "own"])
@pytest.mark.parametrize("limits", [Limits(timeout=0.5), Limits(fuel=20_000_000, timeout=30)],
                         ids=["timeout", "fuel"])
def test_an_endless_constructor_is_stopped(packages: Path, isolating_backend: str,
                                           limits: Limits, grants: Grants | None) -> None:
    S = package("hostile_startup_spin", packages)
    start = time.monotonic()
    with pytest.raises(ResourceError, match=r"hostile_startup_spin: .*start-up.*"
                                            r"(time limit|fuel)"):
        S.sandbox(isolating_backend, limits=limits, grants=grants)
    assert time.monotonic() - start < 20  # a hang guard: the limit itself is 0.5 s


@pytest.mark.parametrize("grants", [None, OWN_STARTUP], ids=["image", "own"])
def test_a_constructor_filling_memory_stays_under_the_limit(
        packages: Path, isolating_backend: str, grants: Grants | None) -> None:
    F = package("hostile_startup_fill", packages)
    with F.sandbox(isolating_backend, limits=Limits(memory_bytes=16 * MiB),
                   grants=grants) as lib:
        assert lib.sandbox.memory.size <= 16 * MiB
        assert plain(lib.hostile_startup_blocks()) < 16  # malloc said no at the limit
    with F.sandbox(isolating_backend) as roomy:  # the default limit: all it asks for
        assert plain(roomy.hostile_startup_blocks()) == F.HOSTILE_STARTUP_FILL_MAX
    with F.sandbox(isolating_backend, limits=Limits(memory_bytes=16 * MiB)) as small:
        assert plain(small.hostile_startup_blocks()) < 16  # that image does not fit: own


def test_the_shared_image_holds_no_clock_or_randomness(packages: Path,
                                                       isolating_backend: str) -> None:
    """The image every sandbox starts from is made with no capabilities: what the
    constructor read of time and randomness was denied, not baked in."""
    E = package("hostile_startup", packages)
    with E.sandbox(isolating_backend) as lib:
        assert plain(lib.hostile_startup_clock()) == -1
        assert plain(lib.hostile_startup_random()) == -1


def test_a_sandbox_granted_randomness_runs_its_own_start_up(packages: Path,
                                                             isolating_backend: str) -> None:
    E = package("hostile_startup", packages)
    granted = Grants(clock=True, random=True)
    with E.sandbox(isolating_backend, grants=granted) as a, \
            E.sandbox(isolating_backend, grants=granted) as b:
        assert abs(a.hostile_startup_clock().verify_range(0, 2**62) - time.time()) < 60
        seeds = {a.hostile_startup_random().verify_range(0, 2**63),
                 b.hostile_startup_random().verify_range(0, 2**63)}
        assert len(seeds) == 2  # each its own, not one seed baked for all
