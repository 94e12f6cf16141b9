"""``#define`` constants (codegen/macros.py): which macros are constants, and their values.

No compiler: the macro dump is written by hand, as ``cc -E -dM`` prints it.
"""

from __future__ import annotations

import math
from typing import Any
from pathlib import Path

import pytest

from sandboxlib.codegen import ir
from sandboxlib.codegen import macros as macros_module
from sandboxlib.codegen.macros import char_value, constants_from_headers, evaluate

pytestmark = pytest.mark.quick  # no compiler: `make quick` runs every test here

VALUES: list[tuple[str, int | float | str]] = [
    ("42", 42),
    ("(-17)", -17),
    ("0x7fffffffu", 0x7FFFFFFF),  # suffixes dropped
    ("1234567890123LL", 1234567890123),
    ("0x10UL", 16),
    ("010", 8),  # octal, as C reads it
    ("0", 0),
    ("00", 0),
    ("(1 << 12)", 4096),
    ("(0xF0 | 0x0F) & ~0x3", 0xFC),
    ("(5 ^ 3)", 6),
    ("(-7 / 2)", -3),  # C truncates toward zero; Python would say -4
    ("(7 / -2)", -3),
    ("(-7 % 2)", -1),  # the sign of the dividend; Python would say 1
    ("(10 % 3)", 1),
    ("((int)8)", 8),  # casts are dropped
    ("((long) -1)", -1),
    ("(int)(3 * 4)", 12),
    ("0.25", 0.25),
    ("1.5f", 1.5),
    ("2.0L", 2.0),
    ("1e3", 1000.0),
    ("0.05", 0.05),  # not read as octal
    ("(1.0 / 4)", 0.25),  # a floating division divides
    ("(3 * 0.5)", 1.5),
    ("'A'", 65),
    ("'\\n'", 10),
    ("('a' + 1)", 98),
    ('"constructs"', "constructs"),
    ('"con" "cat"', "concat"),  # adjacent literals concatenate
    ('"tab\\there"', "tab\there"),
    ("0xFFFFFFFF", 0xFFFFFFFF),
    ("(0xFFFFFFFFu >> 4)", 0x0FFFFFFF),
]


@pytest.mark.parametrize("body,value", VALUES)
def test_constant_values(body: str, value: int | float | str) -> None:
    got = evaluate("X", {"X": body})
    assert got == value and type(got) is type(value), (body, got)


NOT_CONSTANTS = [
    "",  # an empty macro (an include guard)
    "x",  # an unknown name
    "sizeof(int)",
    "f(1)",  # a call of a function-like macro
    "(1 ? 2 : 3)",
    "(1 && 2)",
    "(1 < 2)",
    "(1 / 0)",
    "(1 % 0)",
    "(1 << 64)",  # a shift by the width or more is undefined in C
    "(1 << -1)",
    "(1 << 70)",
    "(0x7fffffffffffffff * 4)",  # beyond 64 bits
    "~0u",  # negative but unsigned: C's value depends on the type's width
    "(unsigned)-1",
    "((size_t) -1)",
    "-1U",
    "-0x80000000",  # 0x80000000 is an unsigned int on wasm32
    "~0xFFFFFFFF",
    "'ab'",  # a multi-character constant
    "'\\xff'",  # a char beyond ASCII: signed or not depends on the target
    "2 ** 3",  # Python syntax that is no C constant expression
    "[1]",
    "not 1",
    "1 if 1 else 2",
    '"unterminated',
    '"a" x "b"',
    "__import__('os').system('true')",
]


@pytest.mark.parametrize("body", NOT_CONSTANTS)
def test_not_constants(body: str) -> None:
    assert evaluate("X", {"X": body}) is None


def test_macros_referring_to_macros() -> None:
    macros = {"A": "42", "B": "(A * 2 + C)", "C": "(1 << 12)", "S": '"text"', "U": "0xFFFFFFFFu",
              "NEG_U": "(0 - U)", "USES_S": "(S + 1)", "SELF": "SELF", "LOOP1": "LOOP2",
              "LOOP2": "LOOP1", "F": "(A / 8.0)"}
    assert evaluate("B", macros) == 42 * 2 + 4096
    assert evaluate("F", macros) == 5.25
    assert evaluate("NEG_U", macros) is None  # unsigned through the reference
    assert evaluate("USES_S", macros) is None  # a string is no operand
    assert evaluate("SELF", macros) is None and evaluate("LOOP1", macros) is None
    assert evaluate("MISSING", macros) is None


def test_a_deep_chain_of_macros_stays_small() -> None:
    """Each macro squares the previous one: the value would have 2**20 digits; the
    evaluation stops at 64 bits instead."""
    macros = {"M0": "3", **{f"M{i}": f"(M{i - 1} * M{i - 1})" for i in range(1, 21)}}
    assert evaluate("M5", macros) == 3 ** 32
    assert evaluate("M6", macros) is None and evaluate("M20", macros) is None


def test_each_macro_is_evaluated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each macro uses the previous one twice: evaluated naively, M20 would take 2**20
    evaluations (seconds); a header must not be able to stall the generator."""
    calls: list[str] = []
    real = macros_module._evaluate_body

    def counted(body: str, *args: Any) -> Any:
        calls.append(body)
        return real(body, *args)

    monkeypatch.setattr(macros_module, "_evaluate_body", counted)
    macros = {"M0": "3", **{f"M{i}": f"(M{i - 1} + M{i - 1})" for i in range(1, 21)}}
    assert evaluate("M20", macros) == 3 << 20
    assert len(calls) == 21


def test_constants_from_headers(tmp_path: Path) -> None:
    a, b = tmp_path / "a.h", tmp_path / "b.h"
    a.write_text("#ifndef A_H\n#define A_H\n"
                 "#define A_ONE 1\n"
                 "  #  define A_TWO (A_ONE + 1)  /* spaced */\n"
                 "#define A_FUNC(x) ((x) + 1)\n"
                 "#define _A_PRIVATE 3\n"
                 "#if 0\n#define A_DEAD 4\n#endif\n"
                 "#define A_NAME \"a\"\n"
                 "#define A_EMPTY\n"
                 "#endif\n")
    b.write_text("#define A_ONE 1\n#define B_RATIO 0.5\n")
    dump = {"A_H": "", "A_ONE": "1", "A_TWO": "(A_ONE + 1)", "_A_PRIVATE": "3",
            "A_NAME": '"a"', "A_EMPTY": "", "B_RATIO": "0.5", "ELSEWHERE": "7"}
    constants = constants_from_headers([a, b], dump)
    assert constants == [
        ir.Constant("A_ONE", 1, ir.Location(str(a), 3)),
        ir.Constant("A_TWO", 2, ir.Location(str(a), 4)),
        ir.Constant("A_NAME", "a", ir.Location(str(a), 10)),
        ir.Constant("B_RATIO", 0.5, ir.Location(str(b), 2)),  # A_ONE once, from a.h
    ]


def test_huge_float_is_kept() -> None:
    assert evaluate("X", {"X": "1e308 * 10"}) == math.inf


def test_char_value() -> None:
    assert [char_value(c) for c in ("'A'", "'\\n'", "'\\0'", "'\\x41'", "'\\101'", "'\\''")] == \
        [65, 10, 0, 65, 65, 39]
    assert [char_value(c) for c in ("'ab'", "'\\xff'", "''", "'\"'", "A", "'é'")] == [None] * 6
