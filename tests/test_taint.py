"""Tainted values refuse every implicit use and come out only through a check."""

from __future__ import annotations

import operator

import pytest

from sandboxlib import TaintError, Tainted


def test_implicit_uses_are_refused() -> None:
    t = Tainted(5, "test")
    for use in (bool, int, float, operator.index, len, iter, hash):
        with pytest.raises((TaintError, TypeError)):
            use(t)  # type: ignore[operator]
    for op in (operator.eq, operator.ne, operator.lt, operator.add, operator.mul,
               operator.and_, operator.lshift, operator.floordiv):
        with pytest.raises(TaintError):
            op(t, 1)
    with pytest.raises(TaintError):
        [1, 2, 3][t]  # type: ignore[index]
    with pytest.raises(TaintError):
        if t:
            pass


def test_verify_returns_the_value_or_names_the_failure() -> None:
    t = Tainted(7, "f() result")
    assert t.verify(lambda v: v < 10) == 7
    with pytest.raises(TaintError, match=r"f\(\) result.*7.*small"):
        t.verify(lambda v: v < 5, "small")
    with pytest.raises(TaintError, match="raised"):
        t.verify(lambda v: v.nope)  # type: ignore[attr-defined]
    assert t.verify_range(0, 7) == 7
    with pytest.raises(TaintError):
        t.verify_range(8, 9)
    assert t.verify_in({7, 8}) == 7
    with pytest.raises(TaintError):
        t.verify_in({1})


def test_escape_hatch_needs_a_reason() -> None:
    t = Tainted(b"x")
    assert t.unverified_safe_because("only logged") == b"x"
    with pytest.raises(TaintError):
        t.unverified_safe_because("  ")


def test_map_keeps_the_taint() -> None:
    t = Tainted(3).map(lambda v: v * 2)
    assert isinstance(t, Tainted)
    assert t.verify(lambda v: v == 6) == 6
