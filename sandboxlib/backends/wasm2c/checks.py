"""Fewer bounds checks in wasm2c's output: the loads and stores of one straight run of
code at constant offsets from one base share one check of the widest range.

wasm2c checks every access on its own (``i32_load_default32(..., (u64)(var_i0) + 12u)``:
``addr + off + size > memory size`` traps). Within a run of lines that cannot branch,
trap, call or change the memory's size (only copies, arithmetic without division,
loads and stores: ``_SIMPLE``), accesses whose base is the same value (a variable, or a
copy of it made in the run, none assigned since) are grouped; a group of two or more
gets one check, before its first access, of ``base + the largest offset + size``
against the memory's size, and its accesses become wasm2c's ``_unchecked`` forms.
Every access of the group lies between ``base`` and that end, so each is still
confined to the memory's current size (the slot never holds less); what changes is
only when an out-of-bounds group traps: at its first access, before the stores of the
run that came before the faulting one (a trap poisons the sandbox either way)."""

from __future__ import annotations

import re

SIZES = {
    "i32_load": 4, "i64_load": 8, "f32_load": 4, "f64_load": 8, "i32_load8_s": 1,
    "i64_load8_s": 1, "i32_load8_u": 1, "i64_load8_u": 1, "i32_load16_s": 2,
    "i64_load16_s": 2, "i32_load16_u": 2, "i64_load16_u": 2, "i64_load32_s": 4,
    "i64_load32_u": 4, "i32_store": 4, "i64_store": 8, "f32_store": 4, "f64_store": 8,
    "i32_store8": 1, "i32_store16": 2, "i64_store8": 1, "i64_store16": 2, "i64_store32": 4,
    "v128_load": 16, "v128_store": 16,
}
MEMORY = "&instance->w2c_memory"
CHECKED = "_default32(wasm_rt_local_memory_base, wasm_rt_local_memory_size, " + MEMORY + ", "
UNCHECKED = "_unchecked(wasm_rt_local_memory_base, " + MEMORY + ", "
_VAR = r"var_[a-z]\d+"
_ACCESS = re.compile(r"\b(?P<op>\w+)" + re.escape(CHECKED) + r"\(u64\)\((?P<base>" + _VAR
                     + r")\)(?: \+ (?P<off>\d+)u)?[,)]")
# a line of the run: an assignment (to a variable or a global) whose right side calls
# nothing but memory accesses and these operations, which neither trap nor branch
PURE = frozenset({"I32_CLZ", "I64_CLZ", "I32_CTZ", "I64_CTZ", "I32_POPCNT", "I64_POPCNT",
                  "I32_ROTL", "I32_ROTR", "I64_ROTL", "I64_ROTR"})
_SIMPLE = re.compile(r"^ *(?:(?P<target>" + _VAR + r")|instance->w2c_g\d+) "
                     r"(?:[-+*&|^]|<<|>>)?= [^;{}]*;$")
_STORE = re.compile(r"^ *\w+" + re.escape(CHECKED) + r"[^;{}]*\);$")
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\(")
_COPY = re.compile(r"^ *(?P<target>" + _VAR + r") = (?P<source>" + _VAR + r");$")
CHECK = "if (UNLIKELY((u64)({base}) + {end}u > wasm_rt_local_memory_size)) TRAP(OOB);"


def _in_run(line: str) -> bool:
    """Whether ``line`` can be part of a straight run (nothing branches, traps but an
    access, calls or grows the memory)."""
    if _SIMPLE.match(line) is None and _STORE.match(line) is None:
        return False
    return all(name in PURE or name.endswith("_default32")
               for name in _CALLED.findall(line))


class _Run:
    """The groups of one straight run: by base value, the line numbers and the end."""

    def __init__(self) -> None:
        self.alias: dict[str, str] = {}  # variable -> the variable whose value it copies
        self.open: dict[str, list[tuple[int, int]]] = {}  # base -> (line, end) of each access
        self.groups: list[tuple[str, list[tuple[int, int]]]] = []

    def access(self, number: int, base: str, end: int) -> None:
        root = self.alias.get(base, base)
        self.open.setdefault(root, []).append((number, end))

    def assign(self, target: str, source: str | None) -> None:
        """``target`` gets a new value (a copy of ``source``'s, if given)."""
        if target in self.open:
            self.groups.append((target, self.open.pop(target)))
        for var in [v for v, root in self.alias.items() if root == target or v == target]:
            del self.alias[var]
        if source is not None and source != target:
            self.alias[target] = self.alias.get(source, source)

    def merged(self) -> list[tuple[str, list[tuple[int, int]]]]:
        """The groups of two or more accesses, once the run has ended."""
        groups = self.groups + list(self.open.items())
        return [(base, accesses) for base, accesses in groups if len(accesses) > 1]


def merge_checks(source: str) -> str:
    """``source`` (wasm2c's module.c) with the checks of each group merged."""
    lines = source.split("\n")
    before: dict[int, str] = {}  # line number -> the check to put before it
    merged: set[int] = set()
    run = _Run()

    def flush(run: _Run) -> None:
        for base, accesses in run.merged():
            first = accesses[0][0]
            indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
            before[first] = indent + CHECK.format(base=base, end=max(e for _, e in accesses))
            merged.update(n for n, _ in accesses)

    for number, line in enumerate(lines):
        if not _in_run(line):
            flush(run)
            run = _Run()
            continue
        found = list(_ACCESS.finditer(line))
        if len(found) == 1 and found[0]["op"] in SIZES:
            m = found[0]
            run.access(number, m["base"], int(m["off"] or 0) + SIZES[m["op"]])
        simple = _SIMPLE.match(line)
        if simple is not None and simple["target"] is not None:
            copy = _COPY.match(line)
            run.assign(simple["target"], copy["source"] if copy is not None else None)
    flush(run)
    out = []
    for number, line in enumerate(lines):
        if number in before:
            out.append(before[number])
        out.append(_unchecked(line) if number in merged else line)
    return "\n".join(out)


def _unchecked(line: str) -> str:
    m = _ACCESS.search(line)
    assert m is not None
    return line[:m.start()] + m["op"] + UNCHECKED + line[m.end("op") + len(CHECKED):]
