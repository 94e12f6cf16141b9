"""``#define`` constants of the given headers, evaluated from the macro dump."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

from . import ir

_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(?=\s|$)", re.M)
_INT_SUFFIX = re.compile(r"\b((?:0[xX][0-9a-fA-F]+)|(?:\d+))[uUlL]+\b")
_CAST = re.compile(r"\(\s*(?:unsigned|signed|const|int|long|short|char|float|double|"
                   r"u?int\d+_t|size_t|[A-Za-z_]\w*_t|uLong|uInt|Byte)\b[\w\s\*]*\)\s*(?=[\w(~-])")
_BINOPS: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor,
}


def constants_from_headers(headers: Sequence[Path], macros: dict[str, str]) -> list[ir.Constant]:
    """Object-like macros defined in ``headers`` whose value is a number or string."""
    out: list[ir.Constant] = []
    seen: set[str] = set()
    for header in headers:
        text = header.read_text(errors="replace")
        for m in _DEFINE.finditer(text):
            name = m.group(1)
            if name in seen or name not in macros or name.startswith("_"):
                continue
            seen.add(name)
            value = evaluate(name, macros)
            if value is not None:
                line = text.count("\n", 0, m.start()) + 1
                out.append(ir.Constant(name, value, ir.Location(str(header), line)))
    return out


def evaluate(name: str, macros: dict[str, str], depth: int = 0) -> int | float | str | None:
    """The value of macro ``name``, or None if it is not a constant expression."""
    body = macros.get(name, "").strip()
    if not body or depth > 20:
        return None
    if re.fullmatch(r'"(?:\\.|[^"\\])*"(\s*"(?:\\.|[^"\\])*")*', body):
        try:
            parts = re.findall(r'"((?:\\.|[^"\\])*)"', body)
            return "".join(ast.literal_eval(f'"{p}"') for p in parts)
        except (ValueError, SyntaxError):
            return None
    expr = _CAST.sub("", _INT_SUFFIX.sub(r"\1", body))
    expr = re.sub(r"\b(\d+\.\d*(?:[eE][-+]?\d+)?)[fFlL]\b", r"\1", expr)

    def substitute(m: re.Match[str]) -> str:
        ref = evaluate(m.group(0), macros, depth + 1)
        if isinstance(ref, (int, float)):
            return f"({ref!r})"
        raise ValueError(m.group(0))

    try:
        expr = re.sub(r"\b[A-Za-z_]\w*\b", substitute, expr)
        return _eval(ast.parse(expr.replace("/", "//"), mode="eval").body)
    except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
        return None


def _eval(node: ast.expr) -> int | float:
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
        if isinstance(node.op, ast.FloorDiv) and isinstance(a, int) and isinstance(b, int):
            q = abs(a) // abs(b)
            return q if (a >= 0) == (b >= 0) else -q
        fn = _BINOPS.get(type(node.op))
        if fn is not None and isinstance(a, int) and isinstance(b, int):
            return fn(a, b)
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(node.op)]
    raise ValueError("not a constant expression")
