"""C declarations (pycparser AST) to the IR."""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pycparser import c_ast, c_generator, c_parser

from ..abi import WASM32, Prim
from ..errors import BuildError
from . import ir
from .macros import char_value, constants_from_headers
from .preprocess import VA_LIST_MARKER, Preprocessed


def _scalar_table() -> dict[tuple[str, ...], Prim]:
    """Each spelling of a scalar type, as its sorted words, to its ``Prim``."""
    spellings = {
        Prim.VOID: ["void"], Prim.BOOL: ["_Bool"], Prim.CHAR: ["char"],
        Prim.SCHAR: ["signed char"], Prim.UCHAR: ["unsigned char"],
        Prim.SHORT: ["short", "short int", "signed short", "signed short int"],
        Prim.USHORT: ["unsigned short", "unsigned short int"],
        Prim.INT: ["int", "signed", "signed int"], Prim.UINT: ["unsigned", "unsigned int"],
        Prim.LONG: ["long", "long int", "signed long", "signed long int"],
        Prim.ULONG: ["unsigned long", "unsigned long int"],
        Prim.LLONG: ["long long", "long long int", "signed long long", "signed long long int"],
        Prim.ULLONG: ["unsigned long long", "unsigned long long int"],
        Prim.FLOAT: ["float"], Prim.DOUBLE: ["double"],
    }
    return {tuple(sorted(s.split())): p for p, names in spellings.items() for s in names}


_SCALARS = _scalar_table()


def _int_literal(text: str) -> int | None:
    """The value of a C integer literal (decimal, hex, octal, binary; any suffix)."""
    text = text.rstrip("uUlL")
    octal = text.startswith("0") and text[1:2] not in ("", "x", "X", "b", "B")
    try:
        return int(text, 8 if octal else 0)
    except ValueError:
        return None


def _shift(a: int, b: int, left: bool) -> int:
    if b >= 64:
        raise ValueError(f"a shift by {b}")
    return 0 if b < 0 else a << b if left else a >> b


_BINARY: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_,
    "|": operator.or_, "^": operator.xor, "<<": lambda a, b: _shift(a, b, True),
    ">>": lambda a, b: _shift(a, b, False), "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(bool(a and b)), "||": lambda a, b: int(bool(a or b)),
}


def parse_api(pre: Preprocessed, headers: Sequence[Path]) -> ir.Api:
    """Parse preprocessed headers; functions, globals and constants come only from
    ``headers`` and their parts (``own_headers``; ``#define`` constants are read from
    their text), types from anywhere."""
    try:
        ast = c_parser.CParser().parse(pre.text, "<headers>")
    except Exception as exc:  # pycparser raises ParseError("file:line:col: message")
        raise BuildError(f"the header does not parse: {exc}") from None
    own = own_headers(pre.text, headers)
    builder = _Builder({str(h.resolve()) for h in own})
    for node in ast.ext:
        builder.top_level(node)
    pointers = {name for name, t in builder.api.typedefs.items() if isinstance(t, ir.Pointer)}
    builder.api.constants = constants_from_headers(own, pre.macros, pointers)
    return builder.api


def own_headers(text: str, headers: Sequence[Path]) -> list[Path]:
    """``headers``, then the headers they include from folders below their own, in the
    order the preprocessed ``text`` meets them: an umbrella header's parts (xz's
    ``lzma.h`` includes ``lzma/*.h``, which refuse to be included alone)."""
    listed = [h.resolve() for h in headers]
    folders = {h.parent for h in listed}
    parts: list[Path] = []
    for marker in _LINE_MARKER.finditer(text):
        path = Path(_unescape(marker.group(1))).resolve()
        if (path not in listed and path not in parts
                and any(path.parent != f and path.is_relative_to(f) for f in folders)):
            parts.append(path)
    return [*headers, *parts]


_LINE_MARKER = re.compile(r'^#\s*\d+\s+"((?:\\.|[^"\\])*)"', re.M)


_ESCAPE = re.compile(r"\\([0-7]{1,3}|.)", re.S)


def _unescape(name: str) -> str:
    """A file name as the compiler's line marker escaped it: '\\' and '"', and (clang)
    each byte outside printable ASCII as an octal escape, so a folder named in UTF-8 or
    in no encoding comes back as the path the file system gives."""
    raw, pos = bytearray(), 0
    for escape in _ESCAPE.finditer(name):
        what = escape.group(1)
        raw += os.fsencode(name[pos:escape.start()])
        raw += bytes([int(what, 8) & 0xFF]) if what[0] in "01234567" else os.fsencode(what)
        pos = escape.end()
    return os.fsdecode(bytes(raw + os.fsencode(name[pos:])))


def _sizes_a_type(node: Any) -> bool:
    """Whether the expression ``node`` takes a ``sizeof`` or ``_Alignof``."""
    return any(isinstance(n, c_ast.UnaryOp) and n.op in ("sizeof", "_Alignof")
               for n in _walk(node))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for _, child in node.children():
        yield from _walk(child)


def _unnamed(t: ir.DeclType, index: int, taken: set[str]) -> str:
    """A name for a parameter the header leaves unnamed, from what it points to (a
    ``struct rl_state *`` is ``rl_state``, a ``char *`` is ``text``, a ``void *`` is
    ``data``, a function pointer ``callback``), else ``arg<index>``; one not taken."""
    name = f"arg{index}"
    if isinstance(t, ir.Pointer):
        target = t.target
        if isinstance(target, ir.StructRef):
            name = target.tag
        elif isinstance(target, ir.FunctionType):
            name = "callback"
        elif isinstance(target, ir.Scalar) and target.prim in (Prim.CHAR, Prim.SCHAR,
                                                                Prim.UCHAR):
            name = "text"
        elif isinstance(target, ir.Scalar) and target.prim is Prim.VOID:
            name = "data"
    return name if name not in taken else f"{name}{index}"


def _spelled(t: ir.DeclType, name: str) -> ir.DeclType:
    """``t`` written as its typedef name ``name``: a scalar type remembers it, and so
    does a function type (also behind the pointer of a function-pointer typedef)."""
    if isinstance(t, ir.Scalar):
        return ir.Scalar(t.prim, name)
    if isinstance(t, ir.FunctionType):
        return replace(t, spelling=name)
    if isinstance(t, ir.Pointer) and isinstance(t.target, ir.FunctionType):
        return replace(t, target=replace(t.target, spelling=name))
    return t


class _Builder:
    def __init__(self, own_files: set[str]) -> None:
        self.own_files = own_files
        self.api = ir.Api()
        self.anon = 0
        # an unnamed struct/union/enum by its node: the first name it got (one C type
        # is one class, also in ``typedef struct {...} a, *b;``, which shares the node)
        self.named: dict[int, tuple[Any, str]] = {}

    def location(self, node: Any) -> ir.Location | None:
        coord = getattr(node, "coord", None)
        if coord is None or not coord.file:
            return None
        return ir.Location(_unescape(str(coord.file)), int(coord.line or 0))

    def is_own(self, node: Any) -> bool:
        loc = self.location(node)
        return loc is not None and str(Path(loc.file).resolve()) in self.own_files

    def top_level(self, node: Any) -> None:
        if isinstance(node, c_ast.Typedef):
            self.api.typedefs[node.name] = self.resolve(node.type, typedef_name=node.name,
                                                        spelling=f"(*({node.name} *)0)")
        elif isinstance(node, c_ast.Decl):
            if isinstance(node.type, c_ast.FuncDecl):
                if not node.name or not self.is_own(node) or self.api.function(node.name):
                    return
                if "static" in node.storage or ("inline" in node.funcspec
                                                and "extern" not in node.storage):
                    self.api.skipped.append(ir.Skipped(
                        node.name, "inline/static function: the library exports no symbol",
                        self.location(node)))
                    return
                self.function(node)
            elif isinstance(node.type, (c_ast.Struct, c_ast.Union, c_ast.Enum)):
                self.resolve_base(node.type, "")  # a bare definition: struct s {...};
            else:
                self.resolve(node.type)  # registers struct/enum definitions
                if node.name and self.is_own(node):
                    self.api.skipped.append(ir.Skipped(
                        node.name, "global variables are not proxied", self.location(node)))

    def function(self, node: Any) -> None:
        ftype = self.resolve(node.type)
        assert isinstance(ftype, ir.FunctionType)
        self.api.functions.append(ir.FunctionDecl(node.name, ftype, self.location(node)))

    # -- types -------------------------------------------------------------------
    def resolve(self, node: Any, typedef_name: str = "", spelling: str | None = None
                ) -> ir.DeclType:
        """The type ``node`` declares; ``spelling``: a C expression of that type."""
        if isinstance(node, c_ast.TypeDecl):
            return self.resolve_base(node.type, typedef_name, spelling)
        if isinstance(node, (c_ast.Struct, c_ast.Union, c_ast.Enum)):
            return self.resolve_base(node, typedef_name, spelling)
        if isinstance(node, c_ast.PtrDecl):
            target = node.type
            const = isinstance(target, c_ast.TypeDecl) and "const" in (target.quals or [])
            # typedef struct {...} *name: the struct is name_target
            return ir.Pointer(self.resolve(target, f"{typedef_name}_target" if typedef_name
                                           else "", spelling and f"(*{spelling})"), const)
        if isinstance(node, c_ast.ArrayDecl):
            element = self.resolve(node.type, spelling=spelling and f"({spelling}[0])")
            if node.dim is None:
                return ir.Array(element, None)
            if _sizes_a_type(node.dim):  # the compiler's, for each model (codegen/layouts.py)
                return ir.Array(element, None, c_generator.CGenerator().visit(node.dim))
            try:
                return ir.Array(element, self.const_int(node.dim))
            except BuildError as exc:
                return ir.Unsupported(f"array size: {exc}")
        if isinstance(node, c_ast.FuncDecl):
            params: list[ir.Param] = []
            variadic = False
            for i, p in enumerate(node.args.params if node.args else []):
                if isinstance(p, c_ast.EllipsisParam):
                    variadic = True
                    continue
                if isinstance(p.type, c_ast.ArrayDecl):  # a pointer, whatever its size says
                    element = p.type.type
                    const = isinstance(element, c_ast.TypeDecl) and "const" in (element.quals
                                                                                or [])
                    t: ir.DeclType = ir.Pointer(self.resolve(element), const)
                else:
                    t = self.resolve(p.type)
                if isinstance(t, ir.Scalar) and t.prim is Prim.VOID and not p.name:
                    continue  # f(void)
                if isinstance(t, ir.FunctionType):
                    t = ir.Pointer(t)
                params.append(ir.Param(p.name or _unnamed(t, i, {q.name for q in params}), t))
            return ir.FunctionType(tuple(params), self.resolve(node.type), variadic)
        if isinstance(node, c_ast.Typename):
            return self.resolve(node.type)
        return ir.Unsupported(f"unsupported declarator {type(node).__name__}")

    def resolve_base(self, node: Any, typedef_name: str, spelling: str | None = None
                     ) -> ir.DeclType:
        if isinstance(node, c_ast.IdentifierType):
            names = tuple(node.names)
            if len(names) == 1 and names[0] == VA_LIST_MARKER:
                return ir.Unsupported("va_list cannot cross the boundary")
            if len(names) == 1 and names[0] in self.api.typedefs:
                return _spelled(self.api.typedefs[names[0]], names[0])
            prim = _SCALARS.get(tuple(sorted(names)))
            if prim is None:
                if "double" in names and "long" in names:
                    return ir.Unsupported("long double is a 128-bit float on wasm32")
                return ir.Unsupported(f"unknown type {' '.join(names)}")
            return ir.Scalar(prim)
        if isinstance(node, c_ast.Struct | c_ast.Union):
            union = isinstance(node, c_ast.Union)
            if not node.name and id(node) in self.named:
                return ir.StructRef(self.named[id(node)][1], union)
            tag = node.name or self.name_unnamed(node, typedef_name)
            if node.name:
                spelling = f"(*({'union' if union else 'struct'} {node.name} *)0)"
            if node.decls is not None:
                fields = [self.field(d, tag, spelling) for d in node.decls]
                self.api.structs[tag] = ir.StructDecl(tag, union, fields, self.location(node),
                                                      spelling)
            elif tag not in self.api.structs:
                self.api.structs[tag] = ir.StructDecl(tag, union, None, self.location(node))
            return ir.StructRef(tag, union)
        if isinstance(node, c_ast.Enum):
            if not node.name and id(node) in self.named:
                return ir.EnumRef(self.named[id(node)][1])
            tag = node.name or self.name_unnamed(node, typedef_name)
            if node.values is not None:
                values: dict[str, int] = {}
                nxt = 0
                for e in node.values.enumerators:
                    nxt = self.const_int(e.value, values) if e.value is not None else nxt
                    values[e.name] = nxt
                    nxt += 1
                self.api.enums[tag] = ir.Enum(tag, values, self.location(node))
            return ir.EnumRef(tag)
        return ir.Unsupported(f"unsupported type {type(node).__name__}")

    def field(self, decl: Any, parent: str, spelling: str | None) -> ir.FieldDecl:
        name = decl.name or self.anonymous()
        # an anonymous struct/union member type is named after its place: parent_field
        t = self.resolve(decl.type, typedef_name=f"{parent}_{name.strip('_')}",
                         spelling=f"({spelling}).{name}" if spelling and decl.name else None)
        bits = self.const_int(decl.bitsize) if decl.bitsize is not None else None
        return ir.FieldDecl(name, t, bits, anonymous=not decl.name)

    def sizeof(self, node: Any) -> int:
        """sizeof(type) on wasm32, for scalars and pointers (what headers size arrays by)."""
        t = self.resolve(node.type) if isinstance(node, c_ast.Typename) else None
        if isinstance(t, ir.Scalar):
            return WASM32.size(t.prim)
        if isinstance(t, ir.Pointer):
            return WASM32.pointer_size
        raise BuildError(f"{getattr(node, 'coord', '?')}: sizeof of this type is not supported")

    def name_unnamed(self, node: Any, typedef_name: str) -> str:
        """The tag of an unnamed struct, union or enum: the (first) typedef name it was
        declared with, else ``anonN``; the same every time the node is met again."""
        tag = typedef_name or self.anonymous()
        self.named[id(node)] = (node, tag)  # the node kept: its id stays unique
        return tag

    def anonymous(self) -> str:
        self.anon += 1
        return f"anon{self.anon}"

    def const_int(self, node: Any, scope: dict[str, int] | None = None) -> int:
        """Evaluate an integer constant expression from the AST (array sizes, enums)."""
        if node is None:
            return 0
        if isinstance(node, c_ast.Constant):
            value = char_value(node.value) if node.value.startswith("'") else \
                _int_literal(node.value)
            if value is None:
                raise BuildError(f"{node.coord}: unsupported constant {node.value}")
            return value
        if isinstance(node, c_ast.ID):
            for values in [scope or {}, *(e.values for e in self.api.enums.values())]:
                if node.name in values:
                    return values[node.name]
            raise BuildError(f"{node.coord}: cannot evaluate {node.name} as a constant")
        if isinstance(node, c_ast.UnaryOp):
            if node.op == "sizeof":  # of a type: its operand is no value
                return self.sizeof(node.expr)
            v = self.const_int(node.expr, scope)
            ops = {"-": -v, "+": v, "~": ~v, "!": int(not v)}
            if node.op in ops:
                return ops[node.op]
        if isinstance(node, c_ast.BinaryOp):
            a, b = self.const_int(node.left, scope), self.const_int(node.right, scope)
            if node.op in ("/", "%") and b:  # C truncates toward zero
                q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
                return q if node.op == "/" else a - q * b
            if node.op in _BINARY:
                try:
                    value = _BINARY[node.op](a, b)
                except ValueError as exc:
                    raise BuildError(f"{node.coord}: {exc} is out of range") from None
                if not -(1 << 63) <= value < 1 << 64:
                    raise BuildError(f"{node.coord}: {value:#x} does not fit 64 bits")
                return value
        if isinstance(node, c_ast.Cast):
            return self.const_int(node.expr, scope)
        if isinstance(node, c_ast.TernaryOp):
            chosen = node.iftrue if self.const_int(node.cond, scope) else node.iffalse
            return self.const_int(chosen, scope)
        raise BuildError(f"{getattr(node, 'coord', '?')}: unsupported constant expression")
