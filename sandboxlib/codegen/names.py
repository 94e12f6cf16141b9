"""Input never becomes code: Python names for C names, Python literals for data.

Everything the generator takes from its input (file names, C identifiers, macro
values, comments, spec strings) is emitted either as a literal (``literal``,
``docstring``) or as a name chosen by ``python_names``, the one rename rule.
"""

from __future__ import annotations

import builtins
import keyword
import math
import textwrap
import unicodedata
from collections.abc import Collection, Sequence

from ..abi import PointerValue

BUILTINS = frozenset(dir(builtins))

# The attributes of the classes a generated package subclasses (``sandboxlib.proxy``'s),
# as data: the generator imports no runtime. A C name used as a method or field must
# not redefine one. Special names (``__init__``) are left out: the rule renames every
# one of them anyway. tests/test_codegen_names.py keeps these equal to ``members`` of
# the classes.
LIBRARY_PROXY_MEMBERS = frozenset({
    "_bind", "alloc", "borrow", "callback", "close", "copy_in", "free", "handles", "keep",
    "new", "out", "poisoned", "sandbox", "snapshot", "view"})
HELPERS_MEMBERS = frozenset({"_count", "_lib", "_string"})
STRUCT_MEMBERS = frozenset({
    "_address", "_fields_", "_layouts", "_layouts_", "_memory", "_model", "_offset", "_read",
    "_sandbox", "_union_", "_write", "address", "address_in", "layout", "sizeof", "snapshot"})


def python_names(names: Sequence[str], reserved: Collection[str]) -> list[str]:
    """The Python names of C ``names`` that share one namespace, in order.

    A name is kept if it is free: not a keyword (``None``, ``True`` and ``False``
    included), not in ``reserved``, not taken by an earlier name, and not starting
    with ``__`` (special or name-mangled in Python) unless it ends with ``___``.
    Otherwise ``_`` is appended until it is free and is none of ``names``.
    Characters that cannot be part of an identifier (``$``) become ``_`` first.
    """
    out: list[str] = []
    given, used = set(names), set()
    for name in names:
        py = "".join(c if ("_" + c).isidentifier() else "_"
                     for c in unicodedata.normalize("NFKC", name))  # as Python reads names
        while (keyword.iskeyword(py) or py in reserved or py in used
               or (py != name and py in given) or py.startswith("__") and not py.endswith("___")):
            py += "_"
        used.add(py)
        out.append(py)
    return out


def members(*classes: type) -> set[str]:
    """Every attribute ``classes`` define or annotate, inherited ones included: what a
    generated subclass must not redefine (``LIBRARY_PROXY_MEMBERS`` and the others are
    those of the proxy's classes that the rule would otherwise keep)."""
    return {n for cls in classes for k in cls.__mro__
            for n in (*vars(k), *vars(k).get("__annotations__", {}))}


def literal(value: int | float | str | PointerValue) -> str:
    """Python source for a constant's value (``float('inf')`` where repr is no literal;
    ``PointerValue(n)`` for a pointer)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def docstring(text: str, indent: str, width: int) -> str:
    """``text`` as a docstring: triple-quoted (a long line wrapped to ``width``) when
    nothing in it can end or change the literal, else ``repr(text)``."""
    if not (all(c.isprintable() or c == "\n" for c in text) and "\\" not in text
            and '"""' not in text and not text.endswith('"')):
        return indent + repr(text)
    if "\n" in text or len(indent) + len(text) + 6 <= width:
        return f'{indent}"""{text}"""'
    return textwrap.fill(text, width, initial_indent=f'{indent}"""',
                         subsequent_indent=indent) + f'\n{indent}"""'
