"""The shape a module must have to run under sandboxlib's ABI, checked before any
backend compiles or instantiates it and before pre-initialization runs it.

A module is input like any other: whoever wrote it may lie. Accepted is what the ABI
needs and zig's wasm32-wasi reactors contain: exactly one 32-bit unshared memory,
exported as ``memory``, whose maximum (if declared) is not zero; at most one table,
of ``funcref``, 32-bit; no start function (a library starts through its exported
``_initialize``, run under the sandbox's limits); imports only of WASI preview 1
functions, with their types (``wasi_calls``: served alike by every backend, or
answered ENOSYS by every backend); the
ABI's exports with the ABI's types; value types i32, i64, f32, f64 and v128; at most
one exception tag, of its own, unexported, of type [i32] (C's setjmp/longjmp, which LLVM
lowers to a throw of ``__c_longjmp``). Everything else (multi-memory, memory64, shared
memory, custom page sizes, imported, exported or further tags, GC and typed-reference
types, reference types outside the one function table, passive data segments of more
than 1 MiB in all, element segments listing more than one entry per function and
65,536 more, export names over 256 bytes, functions declaring more parameters, results
and locals in all than one per byte of code and 65,536 more, unknown sections) is
refused by
name before anything runs it, with
``BuildError`` (``CapabilityError`` for an import), naming the module, the section
and the reason. Instruction bodies are left to the backends' validators, whose
features are set to match (see the wasmtime engine and the wasm2c translation), except
in a module with a tag: its bodies are walked here for the exception instructions
(LLVM's setjmp/longjmp lowering's, no legacy ones: ``_instructions``), about 0.5 µs a
byte. Every body's local declarations are read.
A ``name`` section (kept so that a trap names its function) must be well formed and
hold only module, function, global and data segment names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..abi import FREE, INITIALIZE, MALLOC
from ..errors import BuildError, CapabilityError, ResourceError
from .wasi_calls import MODULE as WASI_MODULE, import_type
from .wasmbinary import EXTENDED_CONST, MAGIC, PAGE, FuncType, wasm_type

if TYPE_CHECKING:
    import wasmtime

    from ..config import Limits

MAX_PAGES = 65536  # a 32-bit memory's 4 GiB
# bytes of passive data segments (memory.init's: C compilers use none without threads);
# active ones are copied in at instantiation, passive ones compiled into wasm2c's C
MAX_PASSIVE_DATA = 1 << 20
# entries of element segments beyond one per function (a C compiler lists each function
# whose address is taken once; wasm2c writes each entry as a line of C)
SPARE_ELEMENTS = 65536
# bytes of an export's name (a C function's: wasm2c names the function after it and
# writes that name at each call of it)
MAX_EXPORT_NAME = 256
# parameters, results and locals the functions declare beyond one per byte of code
# (wasm2c declares each in C; a local group declares 50,000 locals in three bytes)
SPARE_DECLARED = 65536
_VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128"}
_REFTYPES = {0x70: "funcref", 0x6F: "externref", 0x64: "(ref T)", 0x63: "(ref null T)",
             0x6E: "anyref", 0x6D: "eqref", 0x6C: "i31ref", 0x6B: "structref",
             0x6A: "arrayref", 0x69: "exnref", 0x71: "nullref", 0x72: "nullexternref",
             0x73: "nullfuncref", 0x74: "nullexnref"}
_SECTIONS = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
             13: "tag", 6: "global", 7: "export", 8: "start", 9: "element", 12: "data count",
             10: "code", 11: "data"}
_ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]  # the binary format's section order
_KINDS = {0: "function", 1: "table", 2: "memory", 3: "global", 4: "tag"}
MEMORY_EXPORT = "memory"
TABLE_EXPORT = "__indirect_function_table"
# constant-expression opcodes: i32/i64/f32/f64.const, global.get, the extended-const
# arithmetic (i32/i64 add, sub, mul), and v128.const (0xfd 12)
_CONST_IMMEDIATE = {0x41: "s", 0x42: "s", 0x43: 4, 0x44: 8, 0x23: "u"}


@dataclass(frozen=True)
class Limits32:
    """A memory's (in pages) or a table's (in elements) declared limits."""

    minimum: int
    maximum: int | None


@dataclass(frozen=True)
class ModuleShape:
    """What the checks found: the one memory, the table if any, imports and exports."""

    memory: Limits32
    table: Limits32 | None
    imports: tuple[tuple[str, str, FuncType], ...]  # module, name, type
    exports: tuple[tuple[str, str], ...]  # name, kind ("function", "table", ...)
    mutable_globals: int = 0  # zig's modules: one, the stack pointer


class _Refused(Exception):
    """A reason to refuse, raised where it is found; ``check_module`` names the module."""

    def __init__(self, section: str, reason: str, capability: bool = False) -> None:
        super().__init__(f"{section} section: {reason}")
        self.capability = capability


class _Reader:
    """Bounds-checked reading of one section's bytes (a truncated or oversized field
    is a refusal, never an IndexError or a huge allocation)."""

    def __init__(self, data: bytes, section: str, pos: int = 0, end: int | None = None) -> None:
        self.data, self.section, self.pos = data, section, pos
        self.end = len(data) if end is None else end

    def refuse(self, reason: str) -> _Refused:
        return _Refused(self.section, reason)

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.refuse("ends in the middle of an entry")
        self.pos += 1
        return self.data[self.pos - 1]

    def bytes(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise self.refuse(f"a field of {n} bytes runs past the end")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def u32(self) -> int:
        return self._leb(32, signed=False)

    def s32(self) -> int:
        return self._leb(32, signed=True)

    def s64(self) -> int:
        return self._leb(64, signed=True)

    def _leb(self, bits: int, signed: bool) -> int:
        result = shift = 0
        for _ in range((bits + 6) // 7):
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if signed and b & 0x40:
                    result -= 1 << shift
                lo, hi = ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed
                          else (0, (1 << bits) - 1))
                if not lo <= result <= hi:
                    raise self.refuse(f"a number does not fit in {bits} bits")
                return result
        raise self.refuse(f"a number is longer than a {bits}-bit LEB128")

    def count(self, what: str) -> int:
        """A vector's length: each entry takes at least a byte, so a count past the
        bytes left is a lie (and would cost time or memory to believe)."""
        n = self.u32()
        if n > self.end - self.pos:
            raise self.refuse(f"claims {n} {what}, more than its {self.end - self.pos} "
                              "remaining bytes could hold")
        return n

    def name(self) -> str:
        raw = self.bytes(self.u32())
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise self.refuse(f"a name is not UTF-8: {raw[:40]!r}") from None

    def done(self) -> None:
        if self.pos != self.end:
            raise self.refuse(f"{self.end - self.pos} unexplained bytes at its end")


def _valtype(r: _Reader, where: str) -> str:
    code = r.byte()
    if code in _VALTYPES:
        return _VALTYPES[code]
    if code in _REFTYPES:
        raise r.refuse(f"{where} has type {_REFTYPES[code]} (reference types are not part "
                       "of the ABI outside the function table)")
    raise r.refuse(f"{where} has an unknown value type 0x{code:02x}")


def _const_expr(r: _Reader, globals_: list[str], where: str) -> None:
    """Skip a constant expression (refusing references and unknown opcodes)."""
    while True:
        op = r.byte()
        if op == 0x0B:
            return
        kind = _CONST_IMMEDIATE.get(op)
        if kind == "s":
            r.s64()
        elif kind == "u":
            index = r.u32()
            if index >= len(globals_):
                raise r.refuse(f"{where} reads global {index}, which does not exist")
        elif isinstance(kind, int):
            r.bytes(kind)
        elif op == 0xFD and r.u32() == 12:  # v128.const
            r.bytes(16)
        elif op not in EXTENDED_CONST:
            raise r.refuse(f"{where} uses opcode 0x{op:02x}, not a numeric constant")


def _limits(r: _Reader, what: str) -> tuple[int, Limits32]:
    flags = r.byte()
    if flags & ~0x0F:
        raise r.refuse(f"{what} has unknown limit flags 0x{flags:02x}")
    if flags & 0x02:
        raise r.refuse(f"{what} is shared (threads): one sandbox's memory is its own")
    if flags & 0x04:
        raise r.refuse(f"{what} is 64-bit (memory64/table64): the ABI is wasm32")
    if flags & 0x08:
        raise r.refuse(f"{what} declares a custom page size")
    minimum = r.u32()
    maximum = r.u32() if flags & 0x01 else None
    if maximum is not None and maximum < minimum:
        raise r.refuse(f"{what}'s maximum {maximum} is below its minimum {minimum}")
    return flags, Limits32(minimum, maximum)


@dataclass
class _Module:
    """What the sections declare, gathered for the checks across sections."""

    types: list[FuncType]
    funcs: list[int]  # type index of every function, imported ones first
    globals_: list[str]
    imports: list[tuple[str, str, FuncType]]
    memory: Limits32 | None = None
    table: Limits32 | None = None
    exports: dict[str, tuple[int, int]] | None = None
    tags: int = 0
    data_count: int | None = None
    code_count: int | None = None
    data_segments: int = 0
    names: tuple[int, int] | None = None  # where the name section's subsections are
    mutable_globals: int = 0


def _types(r: _Reader, m: _Module) -> None:
    for i in range(r.count("types")):
        form = r.byte()
        if form != 0x60:
            raise r.refuse(f"type {i} is not a function type (form 0x{form:02x}: GC types "
                           "are not part of the ABI)")
        params = tuple(_valtype(r, f"a parameter of type {i}") for _ in range(r.count("params")))
        results = tuple(_valtype(r, f"a result of type {i}") for _ in range(r.count("results")))
        m.types.append(FuncType(params, results))


def _type_of(r: _Reader, m: _Module, index: int, where: str) -> FuncType:
    if index >= len(m.types):
        raise r.refuse(f"{where} names type {index}; the module has {len(m.types)}")
    return m.types[index]


def _imports(r: _Reader, m: _Module) -> None:
    for _ in range(r.count("imports")):
        module, name = r.name(), r.name()
        kind = r.byte()
        label = f"{module}.{name}"
        if kind != 0:
            raise _Refused("import", f"{label} imports a {_KINDS.get(kind, f'kind {kind}')}: "
                           "a module may import only WASI functions (its memory and table "
                           "are its own)", capability=True)
        wasi = import_type(module, name)
        if wasi is None:
            raise _Refused("import", f"{label} is not a WASI preview 1 call (a module may "
                           f"import only from {WASI_MODULE})", capability=True)
        index = r.u32()
        ty = _type_of(r, m, index, f"import {label}")
        if ty != wasi:
            raise _Refused("import", f"{label} has type {ty}; WASI's is {wasi}",
                           capability=True)
        m.funcs.append(index)
        m.imports.append((module, name, ty))


def _functions(r: _Reader, m: _Module) -> None:
    for _ in range(r.count("functions")):
        index = r.u32()
        _type_of(r, m, index, f"function {len(m.funcs)}")
        m.funcs.append(index)


def _tables(r: _Reader, m: _Module) -> None:
    count = r.count("tables")
    if count > 1:
        raise r.refuse(f"{count} tables; the ABI has one function table (every table "
                       "would take host memory of its own)")
    for _ in range(count):
        code = r.byte()
        if code == 0x40:
            raise r.refuse("a table with an initializer expression (GC / function references)")
        if code != 0x70:
            raise r.refuse(f"the table holds {_REFTYPES.get(code, hex(code))}; the ABI's table "
                           "holds funcref")
        m.table = _limits(r, "the table")[1]


def _memories(r: _Reader, m: _Module) -> None:
    count = r.count("memories")
    if count != 1:
        raise r.refuse(f"{count} memories; the ABI needs exactly one (multi-memory would "
                       "multiply the sandbox's memory limit)")
    memory = _limits(r, "the memory")[1]
    if memory.minimum > MAX_PAGES or (memory.maximum or 0) > MAX_PAGES:
        raise r.refuse(f"the memory's limits {memory} exceed 4 GiB")
    if memory.maximum == 0:
        raise r.refuse("the memory's maximum is 0 pages: it could never hold a byte")
    m.memory = memory


def _globals(r: _Reader, m: _Module) -> None:
    for i in range(r.count("globals")):
        valtype = _valtype(r, f"global {i}")
        mutability = r.byte()
        if mutability not in (0, 1):
            raise r.refuse(f"global {i} has an unknown mutability")
        m.mutable_globals += mutability
        _const_expr(r, m.globals_, f"global {i}'s initializer")
        m.globals_.append(valtype)


def _exports(r: _Reader, m: _Module) -> None:
    m.exports = {}
    sizes = {0: len(m.funcs), 1: int(m.table is not None), 2: int(m.memory is not None),
             3: len(m.globals_)}
    for _ in range(r.count("exports")):
        name = r.name()
        if len(name.encode()) > MAX_EXPORT_NAME:
            raise r.refuse(f"{name[:40]!r}... is a name of {len(name.encode())} bytes, over the "
                           f"ABI's {MAX_EXPORT_NAME} (wasm2c writes it at every call)")
        kind, index = r.byte(), r.u32()
        if kind not in sizes:
            raise r.refuse(f"{name!r} exports a {_KINDS.get(kind, f'kind {kind}')}")
        if index >= sizes[kind]:
            raise r.refuse(f"{name!r} exports {_KINDS[kind]} {index}, which does not exist")
        if name in m.exports:
            raise r.refuse(f"{name!r} is exported twice")
        m.exports[name] = (kind, index)


def _elements(r: _Reader, m: _Module) -> None:
    entries, most = 0, len(m.funcs) + SPARE_ELEMENTS
    for i in range(r.count("element segments")):
        flags = r.u32()
        where = f"element segment {i}"
        if flags > 3:
            raise r.refuse(f"{where} holds expressions (flags {flags}), not function indices")
        if flags == 2 and r.u32() != 0:
            raise r.refuse(f"{where} targets a table other than table 0")
        if flags in (0, 2):
            if m.table is None:
                raise r.refuse(f"{where} fills a table the module does not have")
            _const_expr(r, m.globals_, f"{where}'s offset")
        if flags != 0 and r.byte() != 0x00:
            raise r.refuse(f"{where} is not of function references")
        count = r.count("function indices")
        entries += count
        if entries > most:
            raise r.refuse(f"its segments list over {most} functions, one for each of its "
                           f"{len(m.funcs)} and {SPARE_ELEMENTS} more (each is compiled into "
                           "the wasm2c backend's C)")
        for _ in range(count):
            if r.u32() >= len(m.funcs):
                raise r.refuse(f"{where} names a function that does not exist")


def _data(r: _Reader, m: _Module) -> None:
    count = r.count("data segments")
    if m.data_count is not None and count != m.data_count:
        raise r.refuse(f"{count} segments, but the data count section says {m.data_count}")
    passive = 0
    for i in range(count):
        flags = r.u32()
        if flags > 2 or (flags == 2 and r.u32() != 0):
            raise r.refuse(f"data segment {i} targets a memory other than memory 0")
        if flags != 1:
            _const_expr(r, m.globals_, f"data segment {i}'s offset")
        size = r.u32()
        r.bytes(size)
        passive += size if flags == 1 else 0
    if passive > MAX_PASSIVE_DATA:
        raise r.refuse(f"its passive segments hold {passive} bytes, over the ABI's "
                       f"{MAX_PASSIVE_DATA} (they are compiled into the wasm2c backend's C)")
    m.data_segments = count


def _code(r: _Reader, m: _Module) -> None:
    m.code_count = r.count("function bodies")
    if m.code_count != len(m.funcs) - len(m.imports):
        raise r.refuse(f"{m.code_count} bodies for {len(m.funcs) - len(m.imports)} functions")
    declared, most = 0, r.end - r.pos + SPARE_DECLARED
    for i in range(m.code_count):
        index = len(m.imports) + i
        size = r.u32()
        body = _Reader(r.data, f"code section: function {index}", r.pos, r.pos + size)
        r.bytes(size)
        ty = m.types[m.funcs[index]]
        declared += len(ty.params) + len(ty.results) + _locals(body)
        if declared > most:
            raise r.refuse(f"its functions declare over {most} parameters, results and "
                           f"locals, one for each byte of its code and {SPARE_DECLARED} more "
                           "(wasm2c writes each in C)")
        if m.tags:  # what exceptions may do is checked here; the rest by the validators
            _instructions(body)


# -- instructions (of modules with a tag: the exception instructions C's longjmp uses) --
# LLVM's lowering of setjmp/longjmp throws with `throw`, catches with `try_table` and
# passes on what it does not handle with `catch_all_ref` and `throw_ref` (an exnref
# local). Legacy exception handling (try, catch, rethrow, delegate), which wasmtime
# refuses and wasm2c would run, is refused here, so both backends run the same code.
_LEGACY_EH = {0x06: "try", 0x07: "catch", 0x09: "rethrow", 0x18: "delegate",
              0x19: "catch_all"}
_NO_IMMEDIATE = {0x00, 0x01, 0x05, 0x0A, 0x0B, 0x0F, 0x1A, 0x1B, 0xD1, 0xD3, 0xD5,
                 *range(0x45, 0xC5)}  # 0x0a: throw_ref
EXNREF = 0x69
_U32 = {0x08, 0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
        0x26, 0x3F, 0x40, 0xD2, 0xD4, 0xD6}
_U32_PAIR = {0x11, 0x13}
_BLOCK = {0x02, 0x03, 0x04}
_MEMARG = set(range(0x28, 0x3F))
_FC_IMMEDIATES = {**dict.fromkeys(range(8), 0), 8: 2, 9: 1, 10: 2, 11: 1, 12: 2, 13: 1, 14: 2,
                  15: 1, 16: 1, 17: 1}
_SIMD_MEMARG = {*range(12), 92, 93}
_SIMD_LANE = set(range(21, 35))
_SIMD_MEMARG_LANE = set(range(84, 92))
_SIMD_LAST = 0x113  # relaxed SIMD's last opcode


def _heap_type(r: _Reader) -> None:
    r.s64()  # an abstract heap type (one byte, negative) or a type index (s33)


def _block_type(r: _Reader) -> None:
    code = r.data[r.pos] if r.pos < r.end else -1
    if code == 0x40 or code in _VALTYPES or code in _REFTYPES:
        r.byte()
        if code in (0x63, 0x64):
            _heap_type(r)
    else:
        r.s64()  # a type index (s33)


def _memarg(r: _Reader) -> None:
    if r.u32() & 0x40:
        r.u32()  # a memory index (multi-memory: the validators refuse it)
    r._leb(64, signed=False)


def _try_table(r: _Reader) -> None:
    _block_type(r)
    for _ in range(r.count("catch clauses")):
        kind = r.byte()  # catch, catch_ref (a tag, a label), catch_all, catch_all_ref (a label)
        if kind > 3:
            raise r.refuse(f"try_table has a catch clause of unknown kind {kind}")
        if kind < 2:
            r.u32()
        r.u32()


def _prefixed(r: _Reader, op: int) -> None:
    sub = r.u32()
    if op == 0xFC and sub in _FC_IMMEDIATES:
        for _ in range(_FC_IMMEDIATES[sub]):
            r.u32()
    elif op == 0xFD and sub <= _SIMD_LAST:
        if sub in _SIMD_MEMARG or sub in _SIMD_MEMARG_LANE:
            _memarg(r)
        if sub in (12, 13):
            r.bytes(16)
        elif sub in _SIMD_LANE or sub in _SIMD_MEMARG_LANE:
            r.byte()
    else:
        raise r.refuse(f"instruction 0x{op:02x} {sub} is not part of the ABI")


def _locals(r: _Reader) -> int:
    """Read a function body's local declarations: how many locals they declare."""
    declared = 0
    for _ in range(r.count("local groups")):
        declared += r.u32()
        if r.pos < r.end and r.data[r.pos] == EXNREF:
            r.byte()  # an exception caught to be thrown on (catch_all_ref, throw_ref)
        else:
            _valtype(r, "a local")
    return declared


def _instructions(r: _Reader) -> None:
    """Walk a function body's instructions (after its locals), refusing the exception
    instructions C does not use."""
    while r.pos < r.end:
        op = r.byte()
        if op in _NO_IMMEDIATE:
            continue
        if op in _U32:
            r.u32()
        elif op in _MEMARG:
            _memarg(r)
        elif op in _BLOCK:
            _block_type(r)
        elif op == 0x1F:
            _try_table(r)
        elif op == 0x41:
            r.s32()
        elif op == 0x42:
            r.s64()
        elif op in (0x43, 0x44):
            r.bytes(4 if op == 0x43 else 8)
        elif op in _U32_PAIR:
            r.u32()
            r.u32()
        elif op == 0x0E:
            for _ in range(r.count("br_table labels") + 1):
                r.u32()
        elif op == 0x1C:
            for _ in range(r.count("select types")):
                _valtype(r, "a select type")
        elif op == 0xD0:
            _heap_type(r)
        elif op in (0xFC, 0xFD):
            _prefixed(r, op)
        elif op in _LEGACY_EH:
            raise r.refuse(f"legacy exception handling ({_LEGACY_EH[op]}): C's longjmp is "
                           "compiled to try_table, which every backend runs")
        else:
            raise r.refuse(f"instruction 0x{op:02x} is not part of the ABI")


def _data_count(r: _Reader, m: _Module) -> None:
    m.data_count = r.u32()


def _custom(r: _Reader, m: _Module) -> None:
    if r.name() == "name":  # checked once the module's sizes are known (_check_names)
        if m.names is not None:
            raise _Refused("name", "repeated")
        m.names = (r.pos, r.end)
    r.pos = r.end  # producers, debug info: data no backend acts on


# The name section's subsections sandboxlib lets through (a trap names its function;
# wasm2c validates names, wasmtime ignores bad ones: both see only well-formed ones).
def _name_maps(m: _Module) -> dict[int, tuple[str, int]]:
    """The name maps a name section may hold: subsection id -> (what, how many)."""
    return {1: ("function", len(m.funcs)), 7: ("global", len(m.globals_)),
            9: ("data segment", m.data_segments)}


def _check_names(wasm: bytes, m: _Module) -> None:
    if m.names is None:
        return
    r = _Reader(wasm, "name", *m.names)
    last, maps = -1, _name_maps(m)
    while r.pos < r.end:
        sid, size = r.byte(), r.u32()
        sub = _Reader(wasm, "name", r.pos, r.pos + size)
        r.bytes(size)
        if sid <= last:
            raise sub.refuse(f"subsection {sid} is out of order or repeated")
        last = sid
        if sid == 0:
            sub.name()
        elif sid in maps:
            what, limit = maps[sid]
            previous = -1
            for _ in range(sub.count(f"{what} names")):
                index = sub.u32()
                if not previous < index < limit:
                    raise sub.refuse(f"names {what} {index}, out of order or nonexistent")
                previous = index
                sub.name()
        else:
            raise sub.refuse(f"subsection {sid}: only module, function, global and data "
                             "segment names are accepted (wasm-strip removes the section)")
        sub.done()


def _refuse_start(r: _Reader, m: _Module) -> None:
    raise r.refuse("a start function: the ABI starts a library through its exported "
                   "_initialize, which runs under the sandbox's limits")


LONGJMP_TAG_TYPE = FuncType(("i32",), ())  # __c_longjmp's: the jump's target and value


def _tags(r: _Reader, m: _Module) -> None:
    count = r.count("tags")
    if count > 1:
        raise r.refuse(f"{count} exception tags; the ABI has one, C's longjmp")
    for _ in range(count):
        if r.byte() != 0:
            raise r.refuse("a tag of an unknown attribute (not an exception)")
        ty = _type_of(r, m, r.u32(), "the tag")
        if ty != LONGJMP_TAG_TYPE:
            raise r.refuse(f"the exception tag has type {ty}; C's longjmp throws "
                           f"{LONGJMP_TAG_TYPE}")
        m.tags += 1


_READERS = {0: _custom, 1: _types, 2: _imports, 3: _functions, 4: _tables, 5: _memories,
            13: _tags, 6: _globals, 7: _exports, 8: _refuse_start, 9: _elements,
            12: _data_count, 10: _code, 11: _data}


def _read(wasm: bytes) -> _Module:
    if wasm[:4] != MAGIC[:4]:
        raise _Refused("header", "not a wasm module (bad magic number)")
    if wasm[:8] != MAGIC:
        raise _Refused("header", f"binary format version {wasm[4:8].hex()} (only version 1 "
                       "core modules; components are not)")
    m = _Module([], [], [], [])
    top = _Reader(wasm, "module", 8)
    last = -1
    while top.pos < top.end:
        sid = top.byte()
        if sid not in _SECTIONS:
            raise _Refused(f"id {sid}", "an unknown section")
        section = _SECTIONS[sid]
        size = top.u32()
        body = _Reader(wasm, section, top.pos, top.pos + size)
        top.bytes(size)
        if sid:
            order = _ORDER.index(sid)
            if order <= last:
                raise body.refuse("out of order or repeated")
            last = order
        _READERS[sid](body, m)
        body.done()
    if m.memory is None:
        raise _Refused("memory", "the module declares no memory; the ABI needs one")
    if m.funcs and m.code_count is None and len(m.funcs) > len(m.imports):
        raise _Refused("code", "missing: the module declares functions without bodies")
    _check_names(wasm, m)
    return m


def _check_exports(m: _Module) -> None:
    exports = m.exports or {}
    if exports.get(MEMORY_EXPORT, (None,))[0] != 2:
        raise _Refused("export", f"the memory is not exported as {MEMORY_EXPORT!r}")
    table = exports.get(TABLE_EXPORT)
    if table is not None and table[0] != 1:
        raise _Refused("export", f"{TABLE_EXPORT!r} is not the function table")
    for fn in (MALLOC, FREE, INITIALIZE):
        found = exports.get(fn.name)
        if found is None:
            continue
        if found[0] != 0:
            raise _Refused("export", f"{fn.name!r} is not a function")
        ty = m.types[m.funcs[found[1]]]
        if ty != wasm_type(fn.sig):
            raise _Refused("export", f"{fn.name!r} has type {ty}; the ABI's is "
                           f"{wasm_type(fn.sig)}")


def check_module(wasm: bytes, name: str) -> ModuleShape:
    """The module's shape, or ``BuildError`` / ``CapabilityError`` naming ``name``,
    the section and why the ABI refuses it (see the module docstring)."""
    try:
        m = _read(wasm)
        _check_exports(m)
    except _Refused as refused:
        error = CapabilityError if refused.capability else BuildError
        raise error(f"{name}: module refused: {refused}") from None
    assert m.memory is not None
    exports = tuple((n, _KINDS[k]) for n, (k, _) in (m.exports or {}).items())
    return ModuleShape(m.memory, m.table, tuple(m.imports), exports, m.mutable_globals)


def check_limits(shape: ModuleShape, limits: Limits) -> None:
    """ResourceError if the module's initial memory or table exceeds ``limits`` (as its
    instantiation would raise, but before a backend compiles it)."""
    if shape.memory.minimum * PAGE > limits.memory_bytes:
        raise ResourceError("the module's initial memory does not fit the limit of "
                            f"{limits.memory_bytes} bytes")
    if shape.table is not None and shape.table.minimum > limits.table_elements:
        raise ResourceError("a table of the module is larger than the limit of "
                            f"{limits.table_elements} elements")


# wasm proposals wasmtime would accept that the ABI refuses (``check_module`` refuses
# them first; a wasmtime engine refusing them too is the second line)
WASMTIME_REFUSED = ("wasm_multi_memory", "wasm_memory64", "wasm_threads", "wasm_gc",
                    "wasm_function_references", "wasm_custom_page_sizes",
                    "wasm_stack_switching", "wasm_component_model", "wasm_wide_arithmetic")


def refuse_in_wasmtime(config: wasmtime.Config) -> None:
    """Turn off in a wasmtime configuration every proposal the ABI refuses, and on
    exception handling (exnref, the standard one: wasmtime refuses legacy try/catch)."""
    for feature in WASMTIME_REFUSED:
        setattr(config, feature, False)
    config.wasm_exceptions = True
