"""Creating sandboxes: a module whose initial memory exceeds the limit is refused with
a SandboxError on every isolating backend, and the refusal leaves nothing behind."""

from __future__ import annotations

import pytest

from libs import plain

from sandboxlib import Library, Limits, SandboxError


def test_initial_memory_above_the_limit_is_a_sandbox_error(hostile_lib: Library,
                                                           isolating_backend: str) -> None:
    for _ in range(3):
        with pytest.raises(SandboxError, match="memory"):
            hostile_lib.sandbox(isolating_backend, limits=Limits(memory_bytes=1 << 16))
    with hostile_lib.sandbox(isolating_backend) as sb:
        assert plain(sb.hostile_ok(21)) == 42


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("inf"), float("nan")])
def test_a_timeout_is_a_positive_finite_number_of_seconds(timeout: float) -> None:
    """(An infinite one raised OverflowError at the first call, NaN was taken.)"""
    with pytest.raises(ValueError, match="timeout must be a positive, finite number"):
        Limits(timeout=timeout)
