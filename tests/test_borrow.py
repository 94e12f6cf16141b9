"""Zero-copy views out of sandbox memory, released before the sandbox runs again."""

from __future__ import annotations

import pytest

from sandboxlib import BoundsError, Library, TaintError


@pytest.mark.parametrize("backend", ["wasmtime", "native"])
def test_a_borrowed_view_is_zero_copy_and_released_at_the_next_call(sample_lib: Library,
                                                                    backend: str) -> None:
    with sample_lib.sandbox(backend) as sb:
        greeting = sb.sample_greet("world")
        view = sb.borrow(greeting, 13).unverified_safe_because("compared below")
        assert bytes(view) == b"Hello, world!"
        sb.memory.write(greeting.unverified_safe_because("test"), b"J")
        assert bytes(view[:1]) == b"J"  # the same memory, not a copy
        sb.sample_add(1, 2)  # the sandbox runs: the view is gone
        with pytest.raises(ValueError, match="released"):
            bytes(view)


def test_borrow_is_bounds_checked(sample_lib: Library, isolating_backend: str) -> None:
    with (sample_lib.sandbox(isolating_backend) as sb,
          sample_lib.sandbox(isolating_backend) as other):
        with pytest.raises(BoundsError):
            sb.borrow(sb.memory.size - 4, 8)
        with pytest.raises(TaintError, match="another sandbox"):
            sb.borrow(other.sample_greet("x"), 4)


def test_close_releases_borrowed_views(sample_lib: Library) -> None:
    sb = sample_lib.sandbox("wasmtime")
    view = sb.borrow(sb.sample_greet("x"), 4).unverified_safe_because("test")
    sb.close()
    with pytest.raises(ValueError):
        view[0]
