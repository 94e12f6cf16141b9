"""``#define`` constants of the given headers, evaluated from the macro dump.

A macro is a constant if its body is a string literal (adjacent ones concatenated), or
an integer or floating constant expression over literals (decimal, hex, octal, char)
and other such macros, with the arithmetic and bitwise operators and casts. Integers
are evaluated as C does where the result does not depend on a type's width (``/`` and
``%`` truncate toward zero); where it would (a negative value in an unsigned
expression, ``~0u``; a value beyond 64 bits; a shift by 64 or more), the macro is not a
constant rather than a wrong one. A cast to a narrower type is not applied.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Callable

from ..abi import PointerValue
from . import ir

_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(?=\s|$)", re.M)
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"(\s*"(?:\\.|[^"\\])*")*')
_INT_SUFFIX = re.compile(r"\b((?:0[xX][0-9a-fA-F]+)|(?:\d+))[uUlL]+\b")
_FLOAT_SUFFIX = re.compile(r"\b(\d+\.\d*(?:[eE][-+]?\d+)?)[fFlL]\b")
_OCTAL = re.compile(r"(?<![\w.])0([0-7]+)\b(?!\.)")
_CHAR = re.compile(r"'((?:\\.|[^'\\])+)'")
_CAST = re.compile(r"\(\s*(?:unsigned|signed|const|int|long|short|char|float|double|"
                   r"u?int\d+_t|size_t|[A-Za-z_]\w*_t|uLong|uInt|Byte)\b[\w\s\*]*\)\s*(?=[\w(~-])")
# What makes a C integer expression unsigned: a u suffix, a cast to an unsigned type,
# a hex or octal literal that only fits an unsigned type (int and long are 32 bits).
_UNSIGNED_SUFFIX = re.compile(r"\b(?:0[xX][0-9a-fA-F]+|\d+)[lL]*[uU]")
_UNSIGNED_CAST = re.compile(r"\(\s*(?:unsigned|size_t|uint\w*_t|uLong|uInt|Byte)\b[\w\s\*]*\)")
# ((T *) expr), ((T) expr) or (T) expr: a cast at the top of a macro's body
_POINTER_CAST = re.compile(r"\(?\s*\(\s*(?P<type>(?:const\s+|volatile\s+)*[A-Za-z_][\w\s]*?)"
                           r"\s*(?P<star>\*[\s*]*)?\)\s*(?P<expr>[^()]*|\(.*\))\s*\)?")
_HEX_OR_OCTAL = re.compile(r"\b0[xX][0-9a-fA-F]+|(?<![\w.])0[0-7]+\b")
_INT_MIN, _UINT_END = -(1 << 63), 1 << 64
_BINOPS: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
}


def constants_from_headers(headers: Sequence[Path], macros: dict[str, str],
                           pointer_types: Collection[str] = ()) -> list[ir.Constant]:
    """Object-like macros defined in ``headers`` whose value is a number or string, or
    a number cast to a pointer (``(T *)``, or a cast to one of ``pointer_types``, the
    typedef names of pointer types): those become ``PointerValue``."""
    out: list[ir.Constant] = []
    seen: set[str] = set()
    for header in headers:
        text = header.read_text(errors="replace")
        for m in _DEFINE.finditer(text):
            name = m.group(1)
            if name in seen or name not in macros or name.startswith("_"):
                continue
            seen.add(name)
            value: int | float | str | PointerValue | None = pointer_value(
                name, macros, pointer_types)
            if value is None:
                value = evaluate(name, macros)
            if value is not None:
                line = text.count("\n", 0, m.start()) + 1
                out.append(ir.Constant(name, value, ir.Location(str(header), line)))
    return out


def pointer_value(name: str, macros: dict[str, str],
                  pointer_types: Collection[str]) -> PointerValue | None:
    """``((T *) expr)`` or ``((ptr_typedef) expr)`` with an integer constant ``expr``."""
    m = _POINTER_CAST.fullmatch(macros.get(name, "").strip())
    if m is None or not (m["star"] or m["type"].strip() in pointer_types):
        return None
    found = _evaluate_body(m["expr"].strip(), macros, 1, {})
    if found is None or not isinstance(found[0], int):
        return None
    return PointerValue(found[0])


def evaluate(name: str, macros: dict[str, str]) -> int | float | str | None:
    """The value of macro ``name``, or None if it is not a constant expression."""
    found = _evaluate(name, macros, 0, {})
    return None if found is None else found[0]


_Value = tuple[int | float | str, bool]  # and whether it is unsigned in C


def _evaluate(name: str, macros: dict[str, str], depth: int,
              memo: dict[str, _Value | None]) -> _Value | None:
    """The value of macro ``name`` and whether it is unsigned, or None; ``memo`` holds
    the macros evaluated so far (each is evaluated once however often it is used)."""
    if name not in memo:
        memo[name] = _evaluate_body(macros.get(name, "").strip(), macros, depth, memo)
    return memo[name]


def _evaluate_body(body: str, macros: dict[str, str], depth: int,
                   memo: dict[str, _Value | None]) -> _Value | None:
    if not body or depth > 20:
        return None
    if _STRINGS.fullmatch(body):
        try:
            parts = re.findall(r'"((?:\\.|[^"\\])*)"', body)
            return "".join(ast.literal_eval(f'"{p}"') for p in parts), False
        except (ValueError, SyntaxError):
            return None
    unsigned = _is_unsigned(body)
    expr = _CAST.sub("", _INT_SUFFIX.sub(r"\1", body))
    expr = _OCTAL.sub(r"0o\1", _FLOAT_SUFFIX.sub(r"\1", expr))

    def char(m: re.Match[str]) -> str:
        value = char_value(m[0])
        if value is None:
            raise ValueError(m[0])
        return str(value)

    def substitute(m: re.Match[str]) -> str:
        nonlocal unsigned
        ref = _evaluate(m[0], macros, depth + 1, memo)
        if ref is None or isinstance(ref[0], str):
            raise ValueError(m[0])
        unsigned = unsigned or ref[1]
        return f"({ref[0]!r})"

    try:
        expr = re.sub(r"\b[A-Za-z_]\w*\b", substitute, _CHAR.sub(char, expr))
        value = _eval(ast.parse(expr.replace("/", "//"), mode="eval").body)
    except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
        return None
    if unsigned and isinstance(value, int) and value < 0:
        return None  # C would wrap it to a large value that depends on the type's width
    return value, unsigned


def char_value(literal: str) -> int | None:
    """The value of a C character constant (``'A'``, ``'\\n'``, ``'\\x41'``): its code
    if it is one ASCII character, else None (whether ``'\\xff'`` is negative depends on
    the target, and a multi-character constant's value on the compiler)."""
    m = _CHAR.fullmatch(literal)
    try:
        text = ast.literal_eval(f'"{m[1]}"') if m else ""
    except (ValueError, SyntaxError):
        return None
    return ord(text) if len(text) == 1 and ord(text) < 128 else None


def _is_unsigned(body: str) -> bool:
    """Whether a C integer expression is unsigned: it has a u suffix, a cast to an
    unsigned type, or a hex or octal literal that only fits an unsigned type."""
    if _UNSIGNED_SUFFIX.search(body) or _UNSIGNED_CAST.search(body):
        return True
    for m in _HEX_OR_OCTAL.finditer(body):
        v = int(m[0], 16 if m[0][1:2] in "xX" else 8)
        if 1 << 31 <= v < 1 << 32 or v >= 1 << 63:
            return True
    return False


def _eval(node: ast.expr) -> int | float:
    """Evaluate a parsed constant expression; raises ValueError if it is not one."""
    value = _eval_unchecked(node)
    if isinstance(value, int) and not _INT_MIN <= value < _UINT_END:
        raise ValueError("beyond 64 bits")
    return value


def _eval_unchecked(node: ast.expr) -> int | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand)
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Invert) and isinstance(v, int):
            return ~v
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left), _eval(node.right)
        if isinstance(a, int) and isinstance(b, int):
            if isinstance(node.op, (ast.FloorDiv, ast.Mod)):  # C truncates toward zero
                q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
                return q if isinstance(node.op, ast.FloorDiv) else a - q * b
            if isinstance(node.op, (ast.LShift, ast.RShift)):
                if not 0 <= b < 64:
                    raise ValueError("shift count out of range")
                return a << b if isinstance(node.op, ast.LShift) else a >> b
            fn = _BINOPS.get(type(node.op))
            if fn is not None:
                return fn(a, b)
        if isinstance(node.op, ast.FloorDiv):  # a floating operand: C divides
            return a / b
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(node.op)]
    raise ValueError("not a constant expression")
