"""The module's largest functions moved to a translation unit of their own, compiled
without clang's loop-invariant code motion and with its DFA jump threading
(``LARGE_CFLAGS``).

The IR's LICM moves every value a loop does not change to before the loop, whatever
the registers left. In a function of tens of thousands of lines around a dispatch loop
that each call runs a few times (pcre2's ``match``: 39,000 lines, entered at every start
position; bzip2's ``BZ2_decompress``), those values (addresses of fields, the ends its
bounds checks compare with the memory's size) outnumber the registers: they are
computed and spilled at each entry, then reloaded in the loop. Without it, the
machine-level LICM, which weighs register pressure, still hoists what fits. Smaller
functions keep it: for expat's ``updatePosition`` hoisting a check on a fixed address
is what lets the loop be unswitched on it. DFA jump threading turns a loop's ``switch``
on a state its arms set to constants into jumps from each arm to the next: the dispatch
loops of these functions, where LLVM made its irreducible control flow (wasm has none)
one. README, issue 30: instructions and wall time per library.

A function of at least ``LARGE`` bytes of C goes to the second unit, given the part of
module.c before wasm2c's table wrappers and initializers, if what it names of the
module's is functions and function types declared there: the two units share them
(external linkage, hidden like every symbol of the extension; wasm2c's extern forms of
the types, so that a ``call_indirect``'s type check stays a pointer compare). Anything
else (a tag, known by its address; a segment; a table wrapper; an export) keeps the
function where it is.
"""

from __future__ import annotations

import re

LARGE = 250_000
LARGE_CFLAGS = ("-mllvm", "-opt-disable=licm", "-mllvm", "-enable-dfa-jump-thread")
_DEFINITION = re.compile(r"^(?:SBX_NOINLINE )?[^\s#/][^;{}()\n]*?\b(\w*w2c_m_\w+)\(.*\) \{\n",
                         re.M)
_DECLARATION = re.compile(r"^static ([^;{}()\n]*?\b(\w*w2c_m_\w+)\(.*\);)$", re.M)
_FUNC_TYPE = re.compile(r"^FUNC_TYPE_T\((\w+)\)( = .*;)$", re.M)
# where the part both units need ends: wasm2c's table wrappers, or its initializers
_PRELUDE_END = re.compile(r"^static [^;{}()\n]*?\b(?:wrap_\w+|init_globals)\(", re.M)
_NAME = re.compile(r"(?<!->)\b\w*w2c_m_\w+")  # the module's (not an instance's field)


def split_large(source: str) -> tuple[str, str | None]:
    """``source`` (module.c, hooked) without its large functions, and the unit holding
    them (None, and ``source`` unchanged, if it has none)."""
    end = _PRELUDE_END.search(source)
    if end is None:
        return source, None
    static = {m[2] for m in _DECLARATION.finditer(source, 0, end.start())}
    known = static | {m[1] for m in _FUNC_TYPE.finditer(source, 0, end.start())}
    large: dict[str, tuple[int, int]] = {}
    for m in _DEFINITION.finditer(source, end.start()):
        close = source.find("\n}\n", m.end())
        if close < 0:
            break
        if m[1] in static and close - m.end() >= LARGE and \
                known.issuperset(_NAME.findall(source, m.end(), close)):
            large[m[1]] = (m.start(), close + len("\n}\n"))
    if not large:
        return source, None
    shared = set(large)
    for start, stop in large.values():
        shared.update(n for n in _NAME.findall(source, start, stop) if n in static)

    def linked(m: re.Match[str]) -> str:
        return m[1] if m[2] in shared else m[0]

    spans = sorted(large.values())
    head = _DECLARATION.sub(linked, source[:end.start()])
    rest, done = [_FUNC_TYPE.sub(r"FUNC_TYPE_EXTERN_T(\1)\2", head)], end.start()
    for start, stop in spans:
        rest.append(source[done:start])
        done = stop
    rest.append(source[done:])
    prelude = _FUNC_TYPE.sub(r"FUNC_TYPE_DECL_EXTERN_T(\1);", head)
    return "".join(rest), prelude + "".join(source[a:b] for a, b in spans)
