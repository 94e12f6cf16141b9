"""Preprocess headers for the sandbox's target (wasm32), and clean GNU extensions.

The header is preprocessed by the same zig compiler that builds the module, so
``long`` and pointers are 4 bytes and every ``#if`` takes the wasm32 branch. The
output is then cleaned for pycparser: ``__attribute__((...))``, ``__asm__(...)``,
``__extension__``, ``__restrict`` and friends are dropped, inline function bodies
become prototypes, and ``__builtin_va_list`` becomes a marker type.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError
from ..toolchain.bounded import C_ADVICE, run_bounded
from ..toolchain.zig import TARGET, zig_cc, zig_env

VA_LIST_MARKER = "__sbx_va_list"
PRELUDE = f"typedef int {VA_LIST_MARKER};\n"

_WITH_PARENS = {"__attribute__", "__attribute", "__asm__", "__asm", "asm", "__declspec",
                "_Alignas", "__alignas", "_Static_assert", "__typeof__", "__typeof"}
_DROP = {"__extension__", "__restrict", "__restrict__", "_Nonnull", "_Nullable",
         "_Null_unspecified", "__nonnull", "_Noreturn", "__unaligned", "__thread",
         "_Thread_local", "_Atomic"}
_RENAME = {"__inline__": "inline", "__inline": "inline", "__signed__": "signed",
           "__signed": "signed", "__const": "const", "__const__": "const",
           "__volatile__": "volatile", "__volatile": "volatile",
           "__builtin_va_list": VA_LIST_MARKER}
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\s+|.', re.S)


@dataclass
class Preprocessed:
    text: str  # cleaned C, with line markers, for pycparser
    macros: dict[str, str]  # every object-like macro: name -> body


def preprocess(headers: Sequence[Path], include_dirs: Iterable[Path] = (),
               defines: Iterable[str] = ()) -> Preprocessed:
    """Preprocess ``headers`` for wasm32-wasi; raises BuildError with the compiler's
    message (file and line) if they do not preprocess."""
    for h in headers:
        if not h.is_file():
            raise BuildError(f"header {h} does not exist")
    flags = [*TARGET, "-x", "c", *(f"-I{Path(d).resolve()}" for d in include_dirs),
             *(f"-I{h.resolve().parent}" for h in headers), *(f"-D{d}" for d in defines)]
    links: dict[str, str] = {}  # link -> header
    with tempfile.TemporaryDirectory() as tmp:
        spelled = []
        for i, h in enumerate(headers):
            path = str(h.resolve())
            if '"' in path:  # an #include line has no escapes: include it through a link
                link = Path(tmp, f"header{i}.h")
                link.symlink_to(path)
                links[str(link)] = path
                path = str(link)
            spelled.append(path)
        wrapper = Path(tmp) / "sandboxlib_headers.c"
        # (bytes: a path in no encoding is the bytes the file system gave)
        wrapper.write_bytes(os.fsencode("".join(f'#include "{path}"\n' for path in spelled)))
        text = _run([*zig_cc(), *flags, "-E", str(wrapper)])
        macro_dump = _run([*zig_cc(), *flags, "-E", "-dM", str(wrapper)])
    for linked, header in links.items():  # line markers name the header, escaped as C does
        escaped = header.replace("\\", "\\\\").replace('"', '\\"')
        text = text.replace(f'"{linked}"', f'"{escaped}"')
    return from_compiler_output(text, macro_dump)


def from_compiler_output(text: str, macro_dump: str) -> Preprocessed:
    """What ``parse`` reads, from the compiler's ``-E`` output (with line markers) and
    its ``-E -dM`` macro dump."""
    return Preprocessed(PRELUDE + clean(text), parse_macro_dump(macro_dump))


def _run(cmd: list[str]) -> str:
    proc = run_bounded(cmd, "preprocessing the header", env=zig_env(), advice=C_ADVICE)
    if proc.returncode != 0:
        raise BuildError("the header does not preprocess for wasm32", proc.stderr)
    return proc.stdout


def parse_macro_dump(dump: str) -> dict[str, str]:
    """Object-like macros of a ``-dM`` dump: name -> body."""
    macros: dict[str, str] = {}
    for line in dump.splitlines():
        m = re.match(r"#define\s+([A-Za-z_]\w*)(\s+(.*))?$", line)
        if m:  # function-like macros (NAME( ...) do not match: '(' follows directly
            macros[m.group(1)] = (m.group(3) or "").strip()
    return macros


def clean(text: str) -> str:
    """Remove what pycparser does not parse, keeping line structure and markers."""
    out: list[str] = []
    for line in text.splitlines():
        if (line.startswith("#") and not re.match(r"#\s*\d+\s", line)
                and not line.startswith("#line")):
            out.append("")  # pragmas and other directives
        else:
            out.append(line)
    return _strip_bodies(_strip_extensions(_TOKEN.findall("\n".join(out))))


def _skip_group(tokens: list[str], i: int, open_: str, close: str) -> tuple[int, int]:
    """Index after the balanced group starting at the first ``open_`` at/after ``i``,
    and the number of newlines inside it (kept so line numbers stay true)."""
    depth, newlines = 0, 0
    while i < len(tokens):
        t = tokens[i]
        newlines += t.count("\n") if t.isspace() else 0
        if t == open_:
            depth += 1
        elif t == close:
            depth -= 1
            if depth == 0:
                return i + 1, newlines
        elif depth == 0 and not t.isspace():
            return i, newlines  # no group follows
        i += 1
    return i, newlines


def _strip_extensions(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    in_marker = False
    while i < len(tokens):
        t = tokens[i]
        if t == "#" and (not out or "\n" in out[-1]):
            in_marker = True
        elif "\n" in t:
            in_marker = False
        if in_marker:
            out.append(t)
        elif t in _WITH_PARENS:
            i, newlines = _skip_group(tokens, i + 1, "(", ")")
            out.append("\n" * newlines or " ")
            if t == "_Static_assert":
                while i < len(tokens) and tokens[i].isspace():
                    i += 1
                if i < len(tokens) and tokens[i] == ";":
                    i += 1
            continue
        elif t in _DROP:
            out.append(" ")
        else:
            out.append(_RENAME.get(t, t))
        i += 1
    return out


def _strip_bodies(tokens: list[str]) -> str:
    """Turn top-level function definitions (inline functions in headers) into
    prototypes: a ``{`` at depth 0 right after ``)`` starts a body."""
    out: list[str] = []
    depth = 0
    last = ""
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "{" and depth == 0 and last == ")":
            i, newlines = _skip_group(tokens, i, "{", "}")
            out.append(";" + "\n" * newlines)
            last = ";"
            continue
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
        out.append(t)
        if not t.isspace():
            last = t
        i += 1
    return "".join(out)
