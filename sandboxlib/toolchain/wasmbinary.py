"""The one reader (and writer) of the wasm binary format sandboxlib needs: LEB128
numbers, sections, constant expressions, function types, exports, the initial memory."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from ..abi import Prim, Signature, wasm_valtype
from ..errors import BuildError

MAGIC = b"\0asm\x01\0\0\0"
EXPORT_FUNC = 0  # an export's kind: a function (1 table, 2 memory, 3 global)
SEC_CUSTOM = 0
SEC_TYPE, SEC_MEMORY, SEC_GLOBAL, SEC_EXPORT, SEC_START, SEC_CODE, SEC_DATA, SEC_DATACOUNT = \
    1, 5, 6, 7, 8, 10, 11, 12
SEC_TAG = 13
# extended-const's opcodes (no immediates): i32.add, sub, mul, i64.add, sub, mul
EXTENDED_CONST = frozenset({0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E})
PAGE = 65536
_VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
             0x70: "funcref", 0x6F: "externref"}


def _leb(data: bytes, pos: int, signed: bool) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if signed and byte & 0x40:
                result -= 1 << shift
            return result, pos


def leb_u(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 number at ``pos``, and the position after it."""
    return _leb(data, pos, False)


def leb_s(data: bytes, pos: int) -> tuple[int, int]:
    """A signed LEB128 number at ``pos``, and the position after it."""
    return _leb(data, pos, True)


def enc_u(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def enc_s(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte | (0 if done else 0x80))
        if done:
            return bytes(out)


def encode_name(s: str) -> bytes:
    return enc_u(len(s)) + s.encode()


def sections(wasm: bytes) -> list[tuple[int, bytes]]:
    if wasm[:8] != MAGIC:
        raise BuildError("not a wasm module (bad magic or version)")
    pos, out = 8, []
    while pos < len(wasm):
        sid = wasm[pos]
        size, pos = leb_u(wasm, pos + 1)
        out.append((sid, wasm[pos:pos + size]))
        pos += size
    return out


def has_tags(wasm: bytes) -> bool:
    """Whether the module declares exception tags (a checked module: C's longjmp's)."""
    return any(sid == SEC_TAG for sid, _ in sections(wasm))


def assemble(parts: list[tuple[int, bytes]]) -> bytes:
    return MAGIC + b"".join(bytes([sid]) + enc_u(len(b)) + b for sid, b in parts)


def custom_name(body: bytes) -> str:
    """The name a custom section's body starts with."""
    size, pos = leb_u(body, 0)
    return body[pos:pos + size].decode("utf-8", "replace")


NAME_FUNCTIONS = 1  # the name section's subsection of function names


def _function_names(body: bytes) -> bytes | None:
    """A name section's body with only its function names, None if it has none."""
    size, pos = leb_u(body, 0)
    pos += size
    while pos < len(body):
        sub, (size, pos) = body[pos], leb_u(body, pos + 1)
        if sub == NAME_FUNCTIONS:
            return (encode_name("name") + bytes([NAME_FUNCTIONS]) + enc_u(size)
                    + body[pos:pos + size])
        pos += size
    return None


def function_names(wasm: bytes) -> dict[int, str]:
    """The function names of the module's ``name`` section (a checked module's), by
    function index."""
    for sid, body in sections(wasm):
        names = _function_names(body) if sid == SEC_CUSTOM and custom_name(body) == "name" \
            else None
        if names is not None:
            size, pos = leb_u(names, 0)
            pos = leb_u(names, pos + size + 1)[1]  # past "name", the subsection's id and size
            count, pos = leb_u(names, pos)
            out = {}
            for _ in range(count):
                index, pos = leb_u(names, pos)
                size, pos = leb_u(names, pos)
                out[index] = names[pos:pos + size].decode("utf-8", "replace")
                pos += size
            return out
    return {}


def only_function_names(wasm: bytes) -> bytes:
    """``wasm`` without custom sections but the function names of its ``name`` section
    (no debug info, producers, target features; no names of globals or data segments,
    which pre-initialization renumbers): a trap names the C function it happened in."""
    out: list[tuple[int, bytes]] = []
    for sid, body in sections(wasm):
        if sid == SEC_CUSTOM:
            names = _function_names(body) if custom_name(body) == "name" else None
            if names is None:
                continue
            body = names
        out.append((sid, body))
    return assemble(out)


def const_expr_end(body: bytes, pos: int) -> int:
    """The index after a constant expression's ``end`` (0x0b)."""
    while body[pos] != 0x0B:
        op = body[pos]
        pos += 1
        if op in (0x41, 0x42):  # i32.const / i64.const
            _, pos = leb_s(body, pos)
        elif op == 0x43:
            pos += 4
        elif op == 0x44:
            pos += 8
        elif op == 0x23:  # global.get
            _, pos = leb_u(body, pos)
        elif op not in EXTENDED_CONST:
            raise BuildError(f"unsupported constant opcode 0x{op:02x}")
    return pos + 1



@dataclass(frozen=True)
class Global:
    valtype: int  # 0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64
    mutable: bool
    init: bytes  # the init expression, including its end opcode


def parse_globals(body: bytes) -> list[Global]:
    """A global section's entries."""
    count, pos = leb_u(body, 0)
    out = []
    for _ in range(count):
        valtype, mutable = body[pos], body[pos + 1] == 1
        end = const_expr_end(body, pos + 2)
        out.append(Global(valtype, mutable, body[pos + 2:end]))
        pos = end
    return out


_I32_OPS: dict[int, Callable[[int, int], int]] = {
    0x6A: lambda a, b: a + b, 0x6B: lambda a, b: a - b, 0x6C: lambda a, b: a * b}


def i32_const_value(expr: bytes, globals_: list[int | None]) -> int | None:
    """The unsigned value of an i32 constant expression (``i32.const``, ``global.get``
    of a global whose value ``globals_`` holds, extended-const ``i32.add``/``sub``/
    ``mul``), or None for any other."""
    stack: list[int] = []
    pos = 0
    while expr[pos] != 0x0B:
        op = expr[pos]
        if op == 0x41:
            value, pos = leb_s(expr, pos + 1)
            stack.append(value)
        elif op == 0x23:
            index, pos = leb_u(expr, pos + 1)
            known = globals_[index] if index < len(globals_) else None
            if known is None:
                return None
            stack.append(known)
        elif op in _I32_OPS and len(stack) >= 2:
            b, a = stack.pop(), stack.pop()
            stack.append(_I32_OPS[op](a, b))
            pos += 1
        else:
            return None
    return stack[0] & 0xFFFFFFFF if len(stack) == 1 else None


@dataclass(frozen=True)
class FuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


@functools.lru_cache(maxsize=1024)  # (asked for every callback a new sandbox registers)
def wasm_type(sig: Signature) -> FuncType:
    """The wasm function type that carries a C signature."""
    return FuncType(tuple(wasm_valtype(t) for t in sig.params),
                    () if sig.result is Prim.VOID else (wasm_valtype(sig.result),))


def function_types(wasm: bytes) -> tuple[FuncType, ...]:
    """The module's type section, in order."""
    body = dict(sections(wasm)).get(SEC_TYPE, b"\0")

    def valtypes(pos: int) -> tuple[tuple[str, ...], int]:
        count, pos = leb_u(body, pos)
        if any(body[pos + i] not in _VALTYPES for i in range(count)):
            raise BuildError("unsupported wasm value type in the type section")
        return tuple(_VALTYPES[body[pos + i]] for i in range(count)), pos + count

    count, pos = leb_u(body, 0)
    types = []
    for _ in range(count):
        if body[pos] != 0x60:
            raise BuildError("unsupported wasm type (only function types are)")
        params, pos = valtypes(pos + 1)
        results, pos = valtypes(pos)
        types.append(FuncType(params, results))
    return tuple(types)


def parse_exports(body: bytes) -> list[tuple[str, int, int]]:
    """An export section's entries: (name, kind, index)."""
    count, pos = leb_u(body, 0)
    out = []
    for _ in range(count):
        n, pos = leb_u(body, pos)
        name = body[pos:pos + n].decode()
        pos += n
        kind = body[pos]
        index, pos = leb_u(body, pos + 1)
        out.append((name, kind, index))
    return out


def encode_exports(exports: list[tuple[str, int, int]]) -> bytes:
    """An export section's body from its entries (``parse_exports``)."""
    return enc_u(len(exports)) + b"".join(encode_name(n) + bytes([k]) + enc_u(i)
                                            for n, k, i in exports)


def exported_functions(wasm: bytes) -> list[str]:
    """The names of the functions a module exports, in order."""
    body = dict(sections(wasm)).get(SEC_EXPORT, b"\0")
    return [name for name, kind, _ in parse_exports(body) if kind == EXPORT_FUNC]


def initial_memory(wasm: bytes) -> int:
    """The bytes of memory a module's instances start with."""
    body = dict(sections(wasm)).get(SEC_MEMORY, b"\0")
    count, pos = leb_u(body, 0)
    return leb_u(body, pos + 1)[0] * PAGE if count else 0
