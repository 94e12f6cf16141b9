"""The function types of a wasm module, read from its binary: a callback
trampoline is generated for each (a table slot can only be called with one)."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import BuildError

_VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
             0x70: "funcref", 0x6F: "externref"}
_SECTION_TYPE = 1


@dataclass(frozen=True)
class FuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise BuildError("truncated wasm module")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def valtype(self) -> str:
        code = self.byte()
        if code not in _VALTYPES:
            raise BuildError(f"unsupported wasm value type 0x{code:02x}")
        return _VALTYPES[code]


def function_types(data: bytes) -> tuple[FuncType, ...]:
    """The module's type section, in order."""
    if data[:4] != b"\0asm":
        raise BuildError("not a wasm module (bad magic)")
    r = _Reader(data, 8)
    while r.pos < len(data):
        section, size = r.byte(), r.uleb()
        if section != _SECTION_TYPE:
            r.pos += size
            continue
        types = []
        for _ in range(r.uleb()):
            if r.byte() != 0x60:
                raise BuildError("unsupported wasm type (only function types are)")
            params = tuple(r.valtype() for _ in range(r.uleb()))
            types.append(FuncType(params, tuple(r.valtype() for _ in range(r.uleb()))))
        return tuple(types)
    return ()
