"""Fewer bounds checks in wasm2c's output: the loads and stores of one straight run of
code at constant offsets from one base share one check of the widest range, and an
access that a check already passed covers has none.

wasm2c checks every access on its own (``i32_load_default32(..., (u64)(var_i0) + 12u)``:
``addr + off + size > memory size`` traps). Within a run of lines that cannot branch,
trap, call or change the memory's size (only copies, arithmetic without division, SIMD
operations, loads and stores: ``_in_run``), accesses whose base is the same value (a
variable, or a copy of it, none assigned since) are grouped; a group of two or more gets
one check, before its first access, of ``base + the largest offset + size`` against the
memory's size, and its accesses become wasm2c's ``_unchecked`` forms. After the run, that end is
known to be in bounds for that base value (the memory never shrinks) on every path on
which the run ran: the rest of its block and the blocks within it, until a join of
paths (a label: below), the function's end, or an assignment of the base (in a block,
for the code after the block too); an access ending no further from the same base value there
has no check at all. A loop's head (``var_L``: where its rounds join) keeps what was
known before the loop of the bases its body (the lines indented under the head) never
assigns: each round starts with them as they were, and the memory has not shrunk. The
end of a block (``var_B``: where its branches join the code falling into it) knows what
held on every way into it: at each ``goto`` to it, and before it unless that is dead
code (after a ``goto``, a ``return`` or a trap). Any other label forgets everything.
Every access is still confined to the
memory's current size (the slot never holds less); what changes is only when an
out-of-bounds group traps: at its first access, before the stores of the run that came
before the faulting one (a trap poisons the sandbox either way)."""

from __future__ import annotations

import re
from collections.abc import Mapping

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
# wasm SIMD's operations that touch no memory (wasm2c's ``v128_*`` helpers and SIMDe's
# ``simde_wasm_*``, by the lane shape in their name; none loads or stores, none traps)
_SIMD = re.compile(r"(?:simde_wasm|v128)_(?:[iuf](?:8x16|16x8|32x4|64x2)|v128)_\w+|v128_const")
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
    return all(name in PURE or name.endswith("_default32") or _pure_simd(name)
               for name in _CALLED.findall(line))


def _pure_simd(name: str) -> bool:
    return _SIMD.fullmatch(name) is not None and "load" not in name and "store" not in name


# any assignment of a variable anywhere in a line (more than wasm2c writes: forgetting a
# variable too many is safe, one too few is not)
_ASSIGNED = re.compile(r"\b(" + _VAR + r") *(?:[-+*/%&|^]|<<|>>)?=(?!=)")
_LABEL = re.compile(r"^ *var_\w+:")
_LOOP = re.compile(r"^( *)var_L\d+:")
_BLOCK_END = re.compile(r"^ *(var_B\d+):;?$")
_GOTO_BLOCK_END = re.compile(r"\bgoto (var_B\d+);")
_BLOCK_NAME = re.compile(r"\bvar_B\d+\b")
# a statement after which the next line is reached only by a branch to it
_TRANSFER = re.compile(r"^ *(?:(?:SBX_METER )?goto var_\w+;|UNREACHABLE;|TRAP\(\w+\);"
                       r"|return\b.*;)$")
Known = tuple[dict[str, str], dict[str, int]]  # (alias, checked)

Group = list[tuple[int, int]]  # (line number, end) of each access through one base


class _Scan:
    """What is known at a line of a function: which variables copy which (``alias``),
    how far past each base value a check has passed (``checked``: the memory never
    shrinks, so that holds until the base changes), what held on the ways into each
    block end not yet reached (``joining``), and the accesses of the straight run now
    being read, by base (``open``; ``closed`` once their base changed)."""

    def __init__(self, lines: list[str]) -> None:
        self.loops = _loop_assigns(lines)
        self.joins = _plain_joins(lines)
        self.free: set[int] = set()  # accesses an earlier check covers
        self.cut: set[str] = set()  # block ends whose gotos came before a function's edge
        # per block end not yet reached: what held at every goto to it so far
        self.joining: dict[str, Known] = {}
        self.open: dict[str, Group] = {}
        self.closed: list[tuple[str, Group]] = []
        self.reset()

    def reset(self) -> None:
        """A function's edge: nothing is known (a block end still awaited, which no
        function wasm2c writes leaves, is one no longer to trust)."""
        self.cut.update(self.joining)
        self.alias: dict[str, str] = {}
        self.checked: dict[str, int] = {}
        # per enclosing block: what was known before it, and the variables it assigns
        self.blocks: list[tuple[dict[str, str], dict[str, int], set[str]]] = []
        self.joining = {}

    def access(self, number: int, base: str, end: int) -> None:
        root = self.alias.get(base, base)
        if end <= self.checked.get(root, 0):
            self.free.add(number)
        else:
            self.open.setdefault(root, []).append((number, end))

    def assign(self, target: str, source: str | None) -> None:
        """``target`` gets a new value (a copy of ``source``'s, if given)."""
        if target in self.open:
            self.closed.append((target, self.open.pop(target)))
        self._forget(target)
        for _, _, assigned in self.blocks:
            assigned.add(target)
        if source is not None and source != target:
            self.alias[target] = self.alias.get(source, source)

    def _forget(self, var: str) -> None:
        for v in [v for v, root in self.alias.items() if root == var or v == var]:
            del self.alias[v]
        self.checked.pop(var, None)

    def end_run(self) -> list[tuple[str, Group]]:
        """The groups of the run just ended; what each open one checked is now known."""
        for root, group in self.open.items():
            self.checked[root] = max(self.checked.get(root, 0), *(e for _, e in group))
        groups = self.closed + list(self.open.items())
        self.open, self.closed = {}, []
        return groups

    def structure(self, number: int, line: str, dead: bool) -> None:
        """Follow line ``number``, not part of a run: a loop's head (what its body
        assigns is forgotten), a block's end (what held on every way into it: each goto
        to it and, unless ``dead``, the code falling into it), another label (nothing is
        known), a brace opening (remembered) or closing (back to what was known before
        it, less what it assigned), a function's edge, a goto to a block's end (one of
        the ways into it), or a statement assigning a variable."""
        text = line.strip()
        if line.startswith("#"):
            return  # wasm2c's around the Segue base's update after a call_indirect or a
            # memory.grow, at the margin inside the function: no code of the module
        if not line.startswith(" "):
            self.reset()
        elif number in self.loops:
            for var in self.loops[number]:
                self._forget(var)
        elif number in self.joins and self.joins[number] not in self.cut:
            label = self.joins[number]
            ways = [self.joining.pop(label)] if label in self.joining else []
            if not dead:
                ways.append((self.alias, self.checked))
            self.alias, self.checked = _meet(ways)
        elif _LABEL.match(line):
            self.alias, self.checked = {}, {}
        else:
            for label in _GOTO_BLOCK_END.findall(line):
                ways = [(self.alias, self.checked)]
                self.joining[label] = _meet(ways + [self.joining[label]]
                                            if label in self.joining else ways)
            if text.startswith("}"):
                self._leave()
            if text.endswith("{"):
                self.blocks.append((dict(self.alias), dict(self.checked), set()))
            for var in _ASSIGNED.findall(line):
                self.assign(var, None)

    def _leave(self) -> None:
        if not self.blocks:
            self.alias, self.checked = {}, {}
            return
        self.alias, self.checked, assigned = self.blocks.pop()
        for var in assigned:
            self._forget(var)
            for _, _, outer in self.blocks:
                outer.add(var)


def merge_checks(source: str, widths: Mapping[str, int]) -> str:
    """``source`` (wasm2c's module.c) with the checks of each group merged and those an
    earlier check covers left out; ``widths``: the bytes each of wasm2c's checked load
    and store helpers accesses (the others are left as they are)."""
    lines = source.split("\n")
    before: dict[int, str] = {}  # line number -> the check to put before it
    unchecked: set[int] = set()
    scan = _Scan(lines)
    previous = ""  # the last line that is not blank

    def end_run() -> None:
        for base, accesses in scan.end_run():
            if len(accesses) > 1:
                first = accesses[0][0]
                indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
                before[first] = indent + CHECK.format(base=base,
                                                      end=max(e for _, e in accesses))
                unchecked.update(n for n, _ in accesses)

    for number, line in enumerate(lines):
        if not _in_run(line):
            end_run()
            scan.structure(number, line, _TRANSFER.match(previous) is not None)
            previous = line if line.strip() else previous
            continue
        previous = line
        found = list(_ACCESS.finditer(line))
        if len(found) == 1 and found[0]["op"] in widths:
            m = found[0]
            scan.access(number, m["base"], int(m["off"] or 0) + widths[m["op"]])
        simple = _SIMPLE.match(line)
        target = simple["target"] if simple is not None else None
        if target is not None:
            copy = _COPY.match(line)
            scan.assign(target, copy["source"] if copy is not None else None)
        for var in _ASSIGNED.findall(line):
            if var != target:
                scan.assign(var, None)
    end_run()
    unchecked |= scan.free
    out = []
    for number, line in enumerate(lines):
        if number in before:
            out.append(before[number])
        out.append(_unchecked(line) if number in unchecked else line)
    return "\n".join(out)


def _loop_assigns(lines: list[str]) -> dict[int, set[str]]:
    """For each loop head's line: the variables assigned in its body, the lines after
    it indented deeper (wasm2c indents a loop's body under its label, and every branch
    back to the head is in that body; a nested loop's body is within it too), but for
    preprocessor lines, which wasm2c writes at the margin anywhere."""
    heads: dict[int, set[str]] = {}
    open_loops: list[tuple[int, int]] = []  # (indent, line number) of the loops around
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped and not stripped.startswith("#"):  # not at the margin: preprocessor
            indent = len(line) - len(stripped)
            while open_loops and indent <= open_loops[-1][0]:
                open_loops.pop()
            assigned = _ASSIGNED.findall(line)
            for _, head in open_loops:
                heads[head].update(assigned)
        head_match = _LOOP.match(line)
        if head_match is not None:
            heads[number] = set()
            open_loops.append((len(head_match[1]), number))
    return heads


def _meet(ways: list[Known]) -> Known:
    """What holds on every one of ``ways`` (nothing if there is none)."""
    if not ways:
        return {}, {}
    (alias, checked), rest = ways[0], ways[1:]
    return ({v: r for v, r in alias.items() if all(a.get(v) == r for a, _ in rest)},
            {v: min([e, *(c[v] for _, c in rest)]) for v, e in checked.items()
             if all(v in c for _, c in rest)})


def _plain_joins(lines: list[str]) -> dict[int, str]:
    """The block ends (line number -> label) reached only by the code before them and by
    plain gotos written before them in their function: every other block end (none in
    wasm2c's output today) is a join of ways the scan may not have seen."""
    joins: dict[int, str] = {}
    seen: dict[str, int] = {}  # label -> its line, in the function being read
    odd: set[str] = set()

    def function_end() -> None:
        joins.update((n, label) for label, n in seen.items() if label not in odd)
        seen.clear()
        odd.clear()

    for number, line in enumerate(lines):
        if line.startswith("#"):
            continue
        if not line.startswith(" "):
            function_end()
            continue
        end = _BLOCK_END.match(line)
        if end is not None:
            if end[1] in seen:
                odd.add(end[1])
            seen[end[1]] = number
            continue
        names, gotos = _BLOCK_NAME.findall(line), _GOTO_BLOCK_END.findall(line)
        if sorted(names) != sorted(gotos):
            odd.update(names)
        odd.update(name for name in gotos if name in seen)
    function_end()
    return joins


def _unchecked(line: str) -> str:
    m = _ACCESS.search(line)
    assert m is not None
    return line[:m.start()] + m["op"] + UNCHECKED + line[m.end("op") + len(CHECKED):]
