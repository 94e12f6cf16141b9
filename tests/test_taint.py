"""Tainted values refuse every implicit use and come out only through a check."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from libs import ROOT, run_mypy

from sandboxlib import TaintError, Tainted

pytestmark = pytest.mark.quick  # no compiler: `make quick` runs every test here


def test_implicit_uses_are_refused() -> None:
    t = Tainted(5, "test")
    uses: tuple[Callable[[Any], object], ...] = (
        bool, int, float, complex, bytes, operator.index, len, iter, reversed, hash,
        operator.neg, operator.pos, abs, operator.invert, round, math.trunc, math.floor,
        math.ceil)
    for use in uses:
        with pytest.raises((TaintError, TypeError)):
            use(t)
    ops: tuple[Callable[[Any, Any], object], ...] = (
        operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
        operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
        operator.mod, operator.pow, divmod, operator.and_, operator.or_, operator.xor,
        operator.lshift, operator.rshift)
    for op in ops:
        with pytest.raises(TaintError):
            op(t, 1)
        with pytest.raises(TaintError):
            op(1, t)  # the reflected operator refuses too
    with pytest.raises(TaintError):
        1 in t  # type: ignore[operator]
    with pytest.raises(TaintError):
        [1, 2, 3][t]  # type: ignore[call-overload]
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


TYPED_OK = """
from sandboxlib import Tainted, TaintedPtr


def use(t: Tainted[int], p: TaintedPtr) -> int:
    n: int = t.verify(lambda v: 0 <= v < 10)
    data: bytes = p.copy_and_verify(n, lambda b: b.isalnum())
    if p.is_null():
        return 0
    return n + len(data) + t.verify_range(0, 9) + t.unverified_safe_because("example")
"""
# Each line uses a tainted value as if it were plain; mypy must reject every one.
TYPED_BAD = {
    "x: int = t": 'expression has type "Tainted[int]", variable has type "int"',
    "y = t + 1": 'Unsupported operand types for + ("Tainted[int]" and "int")',
    "z = -t": 'Unsupported operand type for unary - ("Tainted[int]")',
    "i = int(t)": 'No overload variant of "int" matches argument type "Tainted[int]"',
    "f = float(t)": 'Argument 1 to "float" has incompatible type "Tainted[int]"',
    "if t: pass": 'which does not implement __bool__ or __len__',
    "e = t == 5": 'Non-overlapping equality check (left operand type: "Tainted[int]"',
    "m = t < 3": 'Unsupported operand types for > ("int" and "Tainted[int]")',
    "w = [1, 2][t]": 'No overload variant of "__getitem__" of "list" matches argument type',
    "q = p + 4": 'Unsupported operand types for + ("TaintedPtr" and "int")',
    "p.copy_bytes(t)": 'Argument 1 to "copy_bytes" of "TaintedPtr" has incompatible type',
    "b: bytes = s": 'expression has type "Tainted[bytes]", variable has type "bytes"',
    "for c in s: pass": '"Tainted[bytes]" has no attribute "__iter__" (not iterable)',
}


def test_mypy_rejects_unverified_use_of_tainted_values(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(TYPED_OK)
    lines = ["from sandboxlib import Tainted, TaintedPtr", "",
             "def use(t: Tainted[int], p: TaintedPtr, s: Tainted[bytes]) -> None:"]
    lines += [f"    {code}" for code in TYPED_BAD]
    (tmp_path / "bad.py").write_text("\n".join(lines) + "\n")
    flags = ("--config-file", str(ROOT / "pyproject.toml"), "--enable-error-code", "truthy-bool")
    ok = run_mypy(tmp_path / ".mypy", *flags, str(tmp_path / "good.py"))
    assert ok.returncode == 0, ok.stdout
    bad = run_mypy(tmp_path / ".mypy", *flags, str(tmp_path / "bad.py"))
    assert bad.returncode == 1
    for number, (code, message) in enumerate(TYPED_BAD.items(), start=len(lines) - len(TYPED_BAD)
                                             + 1):
        reported = [ln for ln in bad.stdout.splitlines() if f"bad.py:{number}: error:" in ln]
        assert any(message in ln for ln in reported), (code, bad.stdout)
