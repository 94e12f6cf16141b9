"""Which of wasm2c's functions need which prologue check: the native stack check and
the stop check (hooks.h's ``SBX_PROLOGUE(stack, stop)``), from the module's call graph.

An unbounded run needs a loop (every back-edge has a stop check: ``translate.METER_AT``)
or unbounded recursion, and deep native stack needs recursion or a long chain of calls.
A function keeps both checks if it can recurse without one (it is in a cycle of direct
calls: Tarjan's strongly connected components) or makes a call this graph cannot see
through: an indirect call (any table entry, a host callback among them, which may
re-enter any export), an import or a function this reading does not know (and one
with a ``try``, whose frame holds a jmp_buf per ``try``). Every other
cycle of calls therefore passes a function with both checks. What remains is a DAG of
direct calls, walked callees first, where a chain below a check is bounded by budgets
of generated C text (a function's frame and run time without a loop are bounded by its
text; ``COST`` bytes more per function for a call's own stack):

- stack: ``need(f) = cost(f) + max(need(g))`` over the callees ``g`` left without a
  stack check; while it exceeds ``STACK_BUDGET``, the callee of largest need gets the
  check (if none is left, ``f`` does). So below any passed check (or the call's entry)
  at most ``STACK_BUDGET`` of text's frames run before the next one, as a function
  that calls nothing and is under ``STACK_BUDGET`` did before (its frame is a few KiB,
  which the reserve kept for host functions holds). A function with the stack check
  that a function without it calls is never inlined (``NOINLINE``): merged into that
  caller, its frame would be allocated, and written, before its check.
- stop: ``work(f) = cost(f) + sum(work(g))`` over the call sites of callees left
  without a stop check, so that a tree of calls (each function calling the next twice:
  exponential time without a loop or a cycle) cannot grow unchecked; over
  ``WORK_BUDGET``, callees get the check as above. Metered builds (fuel) keep the
  stop check in every prologue (a unit of fuel per call); hooks.h decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PROLOGUE = "  FUNC_PROLOGUE;\n"
NOINLINE = "SBX_NOINLINE "  # before a definition: see the note
STACK_BUDGET = 8192
WORK_BUDGET = 65536
COST = 256
_LOCALS = r"(?:  (?:u32|u64|f32|f64|v128) .*\n(?:      .*\n)*)*"  # declared before it
_DEFINITION = re.compile(r"^[^\s#/].*\b(w2c_\w+)\(.*\) \{\n" + _LOCALS + re.escape(PROLOGUE),
                         re.M)
_DIRECT = re.compile(r"\b(w2c_\w+)\(")
# calls the graph cannot follow (runtime and hook functions, which never call the
# module, are not among them; tail calls run through a trampoline), and a `try`, whose
# unwind target (a jmp_buf) is a frame larger than its text
_OPAQUE = re.compile(r"CALL_INDIRECT|\btailcall|next->fn|\bwasm_rt_try\(")


@dataclass
class _Function:
    head: int  # where its definition begins
    start: int  # where its prologue line begins
    body: str
    callees: list[str]  # the module's functions it calls directly, once per call site
    opaque: bool  # it calls something the graph cannot follow
    stack: bool = True
    stop: bool = True
    need: int = 0
    work: int = 0


def prologue(stack: bool, stop: bool) -> str:
    """The prologue line of a function with these checks."""
    return PROLOGUE if stack and stop else f"  SBX_PROLOGUE({int(stack)}, {int(stop)});\n"


def _read(source: str) -> dict[str, _Function]:
    functions: dict[str, _Function] = {}
    for m in _DEFINITION.finditer(source):
        end = source.find("\n}\n", m.end())
        if end < 0:
            break
        body = source[m.end():end]
        functions[m[1]] = _Function(m.start(), m.end() - len(PROLOGUE), body,
                                    _DIRECT.findall(body),
                                    _OPAQUE.search(body) is not None)
    return functions


def _components(functions: dict[str, _Function]) -> tuple[list[str], set[str]]:
    """The functions callees first (Tarjan's order of strongly connected components,
    iterative) and those on a cycle of direct calls."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    order: list[str] = []
    placed: set[str] = set()  # in a component (the others indexed are on the stack)
    cyclic: set[str] = set()
    for root in functions:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        work = [(root, iter(functions[root].callees))]
        while work:
            name, it = work[-1]
            callee = next((c for c in it if c in functions), None)
            if callee is not None:
                if callee not in index:
                    index[callee] = low[callee] = len(index)
                    stack.append(callee)
                    work.append((callee, iter(functions[callee].callees)))
                elif callee not in placed:
                    low[name] = min(low[name], index[callee])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[name])
            if low[name] == index[name]:
                component = stack[stack.index(name):]
                del stack[stack.index(name):]
                order += component
                placed.update(component)
                if len(component) > 1 or name in functions[name].callees:
                    cyclic.update(component)
    return order, cyclic


def _settle(functions: dict[str, _Function], name: str) -> None:
    """Decide ``name``'s checks, its callees decided (see the module's note)."""
    f = functions[name]
    callees = [functions[c] for c in f.callees if c in functions]
    own = COST + len(f.body)
    f.stack, f.need = _within(own, callees, "stack", "need",
                              lambda sizes: max(sizes, default=0), STACK_BUDGET)
    f.stop, f.work = _within(own, callees, "stop", "work", sum, WORK_BUDGET)


def _within(own: int, callees: list[_Function], check: str, size: str,
            combine: Callable[[list[int]], int], budget: int) -> tuple[bool, int]:
    """Whether a function of ``own`` cost calling ``callees`` needs the check (field
    ``check``) and its ``size``: ``own`` and what ``combine`` makes of its callees' without
    the check, who get it, largest first, until that is within ``budget``."""
    while True:
        loose = [g for g in callees if not getattr(g, check)]
        total = own + combine([getattr(g, size) for g in loose])
        if total <= budget or not loose:
            return total > budget, total
        setattr(max(loose, key=lambda g: int(getattr(g, size))), check, True)


def place_prologues(source: str) -> str:
    """``source`` (wasm2c's functions, each with ``PROLOGUE``) with each function's
    prologue the checks it needs (see the module's note)."""
    functions = _read(source)
    order, recursive = _components(functions)
    for name in order:
        f = functions[name]
        if name in recursive or f.opaque or any(c not in functions for c in f.callees):
            f.need, f.work = STACK_BUDGET + 1, WORK_BUDGET + 1
            continue
        _settle(functions, name)
    loose = {c for f in functions.values() if not f.stack for c in f.callees}
    out, done = [], 0
    for name, f in sorted(functions.items(), key=lambda item: item[1].start):
        inline = not f.stack or name not in loose
        out += [source[done:f.head], "" if inline else NOINLINE, source[f.head:f.start],
                prologue(f.stack, f.stop)]
        done = f.start + len(PROLOGUE)
    return "".join(out) + source[done:]
