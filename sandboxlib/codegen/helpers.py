"""High-level helpers emitted from annotations: bytes in, plain tainted values out."""

from __future__ import annotations

from collections.abc import Sequence

from ..abi import CType, FuncPtr, Prim, Ptr
from .annotations import Annotation
from .formatting import WIDTH
from .names import docstring

# The names a helper's body uses besides its parameters: parameters are named apart
# from them (``names.python_names``), so a C parameter called ``len`` or ``lib``
# shadows nothing.
HELPER_LOCALS = frozenset({"self", "lib", "r", "len", "isinstance", "str", "ArgumentError",
                           "Prim", "Ptr"})


def helper_params(names: list[str], ann: Annotation) -> list[str]:
    """The helper's parameters: the C ones minus lengths filled in and out-parameters."""
    dropped = set(ann.buffers.values()) | set(ann.out)
    return [n for n in names if n not in dropped]


def _cell_type(t: Prim | Ptr) -> str:
    """The expression of an out-parameter's C type in the generated module."""
    return "Ptr()" if isinstance(t, Ptr) else f"Prim.{t.name}"


def helper_source(name: str, pyname: str, params: list[str], types: Sequence[CType],
                  ann: Annotation, pointee: dict[str, Prim | Ptr]) -> list[str]:
    """Source lines of one helper method (``types``: the C function's parameter types);
    ``params`` and ``ann`` use the helper's parameter names (filled-in lengths and
    out-parameters are its locals)."""
    kept = helper_params(params, ann)
    lines = [f"    def {pyname}(self{''.join(', ' + p for p in kept)}):  # type: ignore",
             docstring(_describe(name, ann), "        ", WIDTH),
             "        lib = self._lib"]
    for p, t in zip(params, types):
        if p in kept and isinstance(t, (Ptr, FuncPtr)) and p not in ann.nullable:
            lines += [f"        if {p} is None:",
                      "            raise ArgumentError("
                      f"{name + '(): ' + p + ' may not be NULL'!r})"]
    for p in ann.keep:  # the library keeps the pointer: a copy living with the sandbox
        lines += [f"        if isinstance({p}, (bytes, bytearray, memoryview, str)):",
                  f"            {p} = lib.keep({p})"]
    for data, length in ann.buffers.items():  # the length counts elements of the pointee
        lines += [f"        if isinstance({data}, str):", f"            {data} = {data}.encode()"]
        element = pointee.get(data)
        if isinstance(element, Prim) and element not in (Prim.CHAR, Prim.SCHAR, Prim.UCHAR):
            lines += [f"        {length} = self._count({data}, Prim.{element.name})"]
        else:
            lines += [f"        {length} = len({data})"]
    for p in ann.out:  # sized for the sandbox's data model
        lines.append(f"        {p} = lib.out({_cell_type(pointee[p])})")
    body = [f"r = lib.{pyname}({', '.join(params)})"]
    if ann.string:
        free = "None" if ann.free is None else repr(ann.free)
        body.append(f"r = self._string(r, {ann.max_len}, {free})")
    outs = [f"{p}.value" for p in ann.out]
    body.append(f"return ({', '.join(['r', *outs])})" if outs else "return r")
    if ann.out:
        lines.append("        try:")
        lines += [f"            {b}" for b in body]
        lines.append("        finally:")
        lines += [f"            {p}.free()" for p in ann.out]
    else:
        lines += [f"        {b}" for b in body]
    return lines


def _describe(name: str, ann: Annotation) -> str:
    parts = [f"{data} as bytes ({length}: their count)" for data, length in ann.buffers.items()]
    parts += [f"{p}: bytes copied to live with the sandbox" for p in ann.keep]
    if ann.out:
        parts.append(f"returns (result, {', '.join(ann.out)})")
    if ann.string:
        parts.append(f"the result copied out as a string (at most {ann.max_len} bytes)"
                     + (f" and freed with {ann.free}" if ann.free else ""))
    return f"{name}: {'; '.join(parts) or 'NULL checks'}."


def helper_stub(params: list[str], ann: Annotation, param_stub: dict[str, str],
                result: str, pointee: dict[str, Prim | Ptr]) -> tuple[list[tuple[str, str]], str]:
    """([(parameter, stub type)], return stub type) of a helper for the ``.pyi``, from
    the stub types of the C function's parameters (by helper name) and result."""
    kept = helper_params(params, ann)
    typed = []
    for p in kept:
        stub = "bytes | bytearray | memoryview | str" if p in ann.buffers else param_stub[p]
        if p in ann.keep and "str" not in stub:
            stub = f"{stub} | bytes | bytearray | memoryview | str"
        if p in ann.nullable and "None" not in stub:
            stub += " | None"
        typed.append((p, stub))
    if ann.string:
        result = "Tainted[bytes] | None"
    if ann.out:
        outs = ["TaintedPtr" if isinstance(pointee[p], Ptr) else "Tainted[int]" for p in ann.out]
        result = f"tuple[{', '.join([result, *outs])}]"
    return typed, result
