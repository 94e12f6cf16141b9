"""Struct layouts and array lengths as the compiler has them. The parse drops what a
header asks of a layout beyond C's rules (``#pragma pack``, ``__attribute__((packed))``,
``aligned(N)``), so the generator asks the compiler, for wasm32 and for the host, the
size, alignment and field offsets of every struct it gives a view class (those of an
anonymous member through the struct that holds it); one that C's rules would lay out
otherwise gets the compiler's layout (``StructPlan.layouts``, ``Struct._layouts_``), so
its fields read what the library wrote, never their neighbours' bytes. An array length
that takes a ``sizeof`` (a struct's, or a type's that differs between the models) is
asked of the compiler too."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from ..abi import HOST, WASM32, DataModel, Layout, c_layout
from ..errors import BuildError
from ..toolchain.bounded import C_ADVICE, run_bounded
from ..toolchain.zig import TARGET, zig_cc, zig_env
from . import ir
from .lower import FieldType, FixedArray, Nested
from .plan import PackagePlan

PROBE = "sandboxlib_layout_probe"
TARGETS = {WASM32.name: list(TARGET), HOST.name: []}  # zig's clang: wasm32, then the host
_VALUES = re.compile(r"^\s*\.(?:quad|int64)\s+(-?\d+)", re.M)  # the probe's assembly
_UNSPELLABLE = ('"', "\\")  # what an #include line, or zig's dependency file, cannot take


@dataclass
class _Question:
    """What to ask the compiler of the struct ``tag``: its size, alignment and fields'
    offsets (``whole``), or (an anonymous member) where it and each of its fields sit in
    the struct that holds it."""

    tag: str
    whole: bool
    exprs: list[str]


def apply_compiler_layouts(plan: PackagePlan, api: ir.Api, headers: Sequence[Path],
                           include_dirs: Iterable[Path], defines: Iterable[str]) -> None:
    """Give each struct of ``plan`` that the compiler lays out otherwise than C's rules
    the compiler's layout, for each data model."""
    questions = _questions(plan, api)
    if not questions:
        return
    exprs = [e for q in questions for e in q.exprs]
    for model in (WASM32, HOST):
        values = iter(_compile(exprs, headers, include_dirs, defines, TARGETS[model.name],
                               tolerant=model is HOST))
        answers: dict[str, tuple[bool, list[int]]] = {}
        for q in questions:  # (one the host's headers cannot answer keeps C's rules there)
            given = [next(values) for _ in q.exprs]
            if all(v is not None for v in given):
                answers[q.tag] = (q.whole, [v for v in given if v is not None])
        known: dict[str, Layout] = {}  # laid out so far (nested structs come first)
        for sp in plan.structs:
            sizes = [(py, *_size_align(t, model, known)) for py, t in sp.fields]
            ours = c_layout(sizes, sp.union)
            known[sp.tag] = ours
            if sp.tag not in answers:
                continue
            whole, got = answers[sp.tag]
            if whole:
                truth = (got[0], got[1], tuple(got[2:]))
            else:  # an anonymous member: its fields from its own start, as the holder has them
                offsets = tuple(o - got[0] for o in got[1:])
                if offsets == tuple(ours.offsets.values()):
                    continue  # (its holder's layout places it)
                # (its size ends at its last field: no view reads the padding after it)
                truth = (max(o + size for o, (_, size, _) in zip(offsets, sizes)), 1, offsets)
            if truth != (ours.size, ours.align, tuple(ours.offsets.values())):
                sp.layouts[model.name] = truth
                known[sp.tag] = Layout(truth[0], truth[1], dict(zip(ours.offsets, truth[2])))


def apply_array_lengths(api: ir.Api, headers: Sequence[Path], include_dirs: Iterable[Path],
                        defines: Iterable[str]) -> None:
    """Give each array of ``api`` whose length takes a ``sizeof`` (``char
    digest[sizeof(struct hash)]``) the length the compiler gives it, where wasm32 and the
    host agree (else the array is unsupported, saying why); BuildError with the
    compiler's message if the headers do not compile."""
    wanted: dict[str, int | str] = {}

    def ask(t: ir.Array) -> ir.DeclType:
        wanted[t.expr] = 0
        return t

    _each_array(api, ask)
    if not wanted:
        return
    exprs = [f"(long long)({e})" for e in wanted]
    wasm32 = _compile(exprs, headers, include_dirs, defines, TARGETS[WASM32.name])
    host = _compile(exprs, headers, include_dirs, defines, TARGETS[HOST.name], tolerant=True)
    for e, ours, theirs in zip(wanted, wasm32, host):
        assert ours is not None
        # (a length the host's headers cannot give: wasm32's, as the parse took it before)
        wanted[e] = (ours if theirs in (ours, None)
                     else f"array size {e}: {ours} on wasm32, {theirs} on the host")

    def answer(t: ir.Array) -> ir.DeclType:
        length = wanted[t.expr]
        return ir.Array(t.element, length) if isinstance(length, int) else ir.Unsupported(length)

    _each_array(api, answer)


def _each_array(api: ir.Api, change: Callable[[ir.Array], ir.DeclType]) -> None:
    """Replace each array of ``api``'s types whose length is an expression by
    ``change`` of it (with its element type's own changed first)."""
    def mapped(t: ir.DeclType) -> ir.DeclType:
        if isinstance(t, ir.Array):
            t = replace(t, element=mapped(t.element))
            return change(t) if t.expr else t
        if isinstance(t, ir.Pointer):
            return replace(t, target=mapped(t.target))
        if isinstance(t, ir.FunctionType):
            return replace(t, params=tuple(replace(p, type=mapped(p.type)) for p in t.params),
                           result=mapped(t.result))
        return t

    for s in api.structs.values():
        if s.fields is not None:
            s.fields = [replace(f, type=mapped(f.type)) for f in s.fields]
    api.typedefs = {name: mapped(t) for name, t in api.typedefs.items()}
    for f in api.functions:
        f.type = cast(ir.FunctionType, mapped(f.type))


def _questions(plan: PackagePlan, api: ir.Api) -> list[_Question]:
    """What to ask of each planned struct that C can name, and of the anonymous members
    inside it."""
    planned = {sp.tag for sp in plan.structs}
    found: list[_Question] = []

    def members(root: str, s: ir.StructDecl) -> None:
        for f in s.fields or []:
            inner = api.structs.get(f.type.tag) if (
                f.anonymous and isinstance(f.type, ir.StructRef)) else None
            if inner is not None and inner.fields and inner.tag in planned:
                found.append(_Question(inner.tag, False, [
                    f"offsetof({root}, {_leaf(api, g)})" for g in [f, *inner.fields]]))
                members(root, inner)

    for sp in plan.structs:
        s = api.structs[sp.tag]
        if s.spelling is None or s.fields is None:
            continue
        root = f"__typeof__({s.spelling})"
        found.append(_Question(sp.tag, True, [f"sizeof({root})", f"_Alignof({root})",
                                              *(f"offsetof({root}, {_leaf(api, f)})"
                                                for f in s.fields)]))
        members(root, s)
    return found


def _leaf(api: ir.Api, f: ir.FieldDecl) -> str:
    """What ``offsetof`` takes for field ``f``: its name, or for an anonymous member
    (which has none) the first field inside it, at the same offset."""
    if f.anonymous and isinstance(f.type, ir.StructRef):
        inner = api.structs.get(f.type.tag)
        if inner is not None and inner.fields:
            return _leaf(api, inner.fields[0])
    return f.name


def _size_align(t: FieldType, model: DataModel, known: dict[str, Layout]) -> tuple[int, int]:
    """sizeof and alignof of a planned field type in ``model``."""
    if isinstance(t, Nested):
        return known[t.tag].size, known[t.tag].align
    if isinstance(t, FixedArray):
        size, align = _size_align(t.element, model, known)
        return size * t.length, align
    return model.size(t), model.align(t)


def _spellable(path: Path, tmp: Path, name: str) -> str:
    """``path``, or a link to it in ``tmp`` where it holds what no ``#include`` line or
    zig's dependency file can take."""
    if not any(c in str(path) for c in _UNSPELLABLE):
        return str(path)
    link = tmp / name
    link.symlink_to(path)
    return str(link)


def _compile(exprs: list[str], headers: Sequence[Path], include_dirs: Iterable[Path],
             defines: Iterable[str], target: list[str], tolerant: bool = False
             ) -> list[int | None]:
    """The values of the constant expressions ``exprs`` after ``headers``, compiled for
    ``target`` (as the headers were preprocessed: codegen/preprocess.py): read from the
    assembly of an array holding them. With ``tolerant``, an expression the compiler
    refuses is None (the host's libc defines some structs otherwise than wasm32's:
    ``struct __jmp_buf_tag`` has no ``__jb``), else the refusal is a BuildError."""
    refused: set[int] = set()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dirs = [*(Path(d).resolve() for d in include_dirs), *(h.resolve().parent for h in headers)]
        flags = [*target, "-x", "c", *(f"-I{_spellable(d, folder, f'd{i}')}"
                                       for i, d in enumerate(dirs)),
                 *(f"-D{d}" for d in defines)]
        includes = "".join(f'#include "{_spellable(h.resolve(), folder, f"h{i}.h")}"\n'
                           for i, h in enumerate(headers))
        first = len(headers) + 3  # the line of the first expression
        probe, assembly = folder / "probe.c", folder / "probe.s"
        for _ in range(2):  # (again without what the first compile refused)
            probe.write_bytes((includes + "#include <stddef.h>\n"
                               f"const long long {PROBE}[] = {{\n"
                               + ",\n".join("0" if i in refused else e
                                            for i, e in enumerate(exprs))
                               + "};\n").encode(errors="surrogateescape"))
            proc = run_bounded([*zig_cc(), *flags, "-S", "-O0", "-g0", "-o", str(assembly),
                                str(probe)], "asking the compiler for the structs' layouts",
                               env=zig_env(), advice=C_ADVICE)
            if proc.returncode == 0:
                break
            lines = {int(n) - first for n in re.findall(r"probe\.c:(\d+):\d+: error", proc.stderr)}
            if not tolerant or refused or not lines <= set(range(len(exprs))):
                raise BuildError("asking the compiler for the structs' layouts failed "
                                 f"({' '.join(target) or 'for the host'})", proc.stderr)
            refused = lines
        text = assembly.read_text()
    values = [int(v) for v in _VALUES.findall(text.split(f"{PROBE}:", 1)[-1])]
    if len(values) < len(exprs):
        raise BuildError("the compiler's struct layouts could not be read from its output")
    return [None if i in refused else v for i, v in enumerate(values[:len(exprs)])]
