"""Active data segments kept out of wasm2c's C.

wasm2c writes a data segment into the C as an array initializer, six characters per
byte, which clang then holds as a node per byte: a module of 4 MiB of data took 490 MB
and 8 s to compile, so one of 256 MiB (a module made of data, or a library's tables)
would have needed about 31 GB. A module is therefore translated with each active
segment emptied in place (its index, offset and order kept: wasm2c still checks its
offset), and the extension copies the segments' bytes into each new instance's memory
right after wasm2c's own, in order, with the same bounds check and trap
(``sbx_instantiate``, ``csrc/runtime.c``'s ``sbx_load_segments``). Passive segments
stay in the C: the ABI bounds their size (``toolchain.moduleshape``)."""

from __future__ import annotations

from dataclasses import dataclass

from ...toolchain.wasmbinary import (SEC_DATA, SEC_GLOBAL, assemble, const_expr_end, enc_u,
                                     i32_const_value, leb_u, parse_globals, sections)

I32 = 0x7F
PASSIVE = 1  # a data segment's flags: 0 active in memory 0, 1 passive, 2 active, memory given


@dataclass(frozen=True)
class Segment:
    offset: int  # where in memory its bytes go
    data: bytes


def split_data(wasm: bytes) -> tuple[bytes, tuple[Segment, ...]]:
    """``wasm`` (a checked module: no imported globals) with its active data segments
    emptied, and those segments in order; ``wasm`` itself and none if it has no active
    segment or one whose offset is not computed here."""
    parts = sections(wasm)
    by_id = dict(parts)
    body = by_id.get(SEC_DATA)
    if body is None:
        return wasm, ()
    values: list[int | None] = []
    for g in parse_globals(by_id.get(SEC_GLOBAL, b"\0")):
        values.append(None if g.mutable or g.valtype != I32 else i32_const_value(g.init, values))
    count, pos = leb_u(body, 0)
    emptied, segments = bytearray(enc_u(count)), []
    for _ in range(count):
        start = pos
        flags, pos = leb_u(body, pos)
        if flags == 2 and leb_u(body, pos)[0] != 0:
            return wasm, ()  # another memory's (refused by the shape check, and by wasm2c)
        if flags == 2:
            pos = leb_u(body, pos)[1]
        expr = pos
        if flags != PASSIVE:
            pos = const_expr_end(body, pos)
        size, at = leb_u(body, pos)
        if flags == PASSIVE:
            emptied += body[start:at + size]
        else:
            offset = i32_const_value(body[expr:pos], values)
            if offset is None:
                return wasm, ()
            emptied += body[start:pos] + enc_u(0)
            segments.append(Segment(offset, body[at:at + size]))
        pos = at + size
    if not segments:
        return wasm, ()
    return assemble([(sid, bytes(emptied) if sid == SEC_DATA else part)
                     for sid, part in parts]), tuple(segments)
