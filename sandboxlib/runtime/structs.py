"""C structs seen through sandbox memory: layouts per data model, typed field views.

A generated struct class lists its fields with their C types; the layout (offsets,
size, alignment) is computed for the data model of the sandbox it is viewed in
(wasm32 inside the sandbox, the host's for the native backend). Reading a field
copies it out of sandbox memory (bounds-checked) and returns it tainted; nested
structs return views; writing a field range-checks the value for its C type.
"""

from __future__ import annotations

import struct as _struct
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, TypeVar, Union

from ..abi import DataModel, FuncPtr, Layout, Prim, Ptr, c_layout
from ..errors import ArgumentError, BoundsError
from ..taint import Tainted, TaintedPtr
from .._boundary import CellBase, Field, add_pointee, setup_blocks, setup_struct
from .compiled import lift_spec, param_spec
from .marshal import converter
from .objects import Allocation, Owner


@dataclass(frozen=True)
class ArrayOf:
    """A fixed-size array field: ``element[length]``."""

    element: FieldType
    length: int


FieldType = Union[Prim, Ptr, FuncPtr, ArrayOf, type["Struct"]]


def size_align(t: FieldType, model: DataModel) -> tuple[int, int]:
    """sizeof and alignof of a field type in ``model``."""
    if isinstance(t, ArrayOf):
        size, align = size_align(t.element, model)
        return size * t.length, align
    if isinstance(t, type) and issubclass(t, Struct):
        lay = t.layout(model)
        return lay.size, lay.align
    assert isinstance(t, (Prim, Ptr, FuncPtr))
    return model.size(t), model.align(t)


def compute_layout(fields: tuple[tuple[str, FieldType], ...], union: bool,
                   model: DataModel) -> Layout:
    """``fields`` laid out by C's rules in ``model``."""
    return c_layout(((name, *size_align(t, model)) for name, t in fields), union)


class _FieldDescriptor:
    """An array field (the others: ``_CompiledField``)."""

    def __init__(self, name: str, t: FieldType) -> None:
        self.name = name
        self.type = t

    def __get__(self, view: Struct | None, owner: type) -> Any:
        if view is None:
            return self
        return view._read(self.name, self.type)

    def __set__(self, view: Struct, value: object) -> None:
        view._write(self.name, self.type, value)


class _CompiledField(Field):
    """A scalar, pointer or nested struct field, read (tainted, or a view) and written
    (range-checked) in C when in bounds; the view's ``_read``/``_write`` do the rest
    and raise the errors."""

    __slots__ = ("_owner",)

    def __init__(self, name: str, t: Prim | Ptr | FuncPtr | type[Struct],
                 owner: type[Struct]) -> None:
        super().__init__(name, t)
        self._owner = owner

    def _prepare(self, model: DataModel) -> tuple[object, ...]:
        """Where the field is in ``model`` and how its values are checked and lifted
        (a nested struct: kind ``s``, its class last)."""
        t = self.type
        where = f"{self._owner.__name__}.{self.name}"
        offset = self._owner.layout(model).offsets[self.name]
        if isinstance(t, type):
            return offset, 0, "s", "i", 0, False, "p", 0, 0, where, t
        kind, lo, hi, shape = param_spec(t, model, where)
        return (offset, model.size(t), *lift_spec(t, model), "p" if kind == "c" else kind, lo,
                hi, where, shape)


class Struct:
    """Base of generated struct classes: a view of one struct in sandbox memory."""

    _fields_: ClassVar[tuple[tuple[str, FieldType], ...]] = ()
    _union_: ClassVar[bool] = False
    # the compiler's layout by data model, where C's rules give another (the header
    # packs or aligns it: codegen/layouts.py): (size, alignment, the fields' offsets)
    _layouts_: ClassVar[dict[str, tuple[int, int, tuple[int, ...]]]] = {}
    _layouts: ClassVar[dict[str, Layout]]

    __slots__ = ("_sandbox", "_address", "_memory", "_model")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._layouts = {}
        for name, t in cls._fields_:
            setattr(cls, name, _FieldDescriptor(name, t) if isinstance(t, ArrayOf)
                    else _CompiledField(name, t, cls))

    @classmethod
    def layout(cls, model: DataModel) -> Layout:
        lay = cls._layouts.get(model.name)
        if lay is None:
            fixed = cls._layouts_.get(model.name)
            lay = cls._layouts[model.name] = (
                compute_layout(cls._fields_, cls._union_, model) if fixed is None else
                Layout(fixed[0], fixed[1], {n: o for (n, _), o in zip(cls._fields_, fixed[2])}))
        return lay

    @classmethod
    def sizeof(cls, model: DataModel) -> int:
        return cls.layout(model).size

    def __init__(self, sandbox: Owner, address: int | TaintedPtr) -> None:
        if isinstance(address, TaintedPtr):
            if not address.belongs_to(sandbox.memory):
                raise BoundsError(f"{type(self).__name__}: pointer belongs to another sandbox")
            address = address.unverified_safe_because("checked against memory on every access")
        size = self.layout(sandbox.model).size
        if sandbox.isolated:
            try:
                sandbox.memory.read(address, 0 if size == 0 else 1)  # NULL/out of range early
            except BoundsError as exc:
                raise BoundsError(f"{type(self).__name__}: {exc}") from None
            if address + size > sandbox.memory.size:
                raise BoundsError(f"{type(self).__name__} at 0x{address:x} ({size} bytes) runs "
                                  "past the end of sandbox memory")
        self._sandbox = sandbox
        self._address = address
        self._memory = sandbox.memory
        self._model = sandbox.model

    @property
    def address(self) -> int:
        return self._address

    def address_in(self, sandbox: object, where: str) -> int:
        if sandbox is not self._sandbox:
            raise ArgumentError(f"{where}: struct view belongs to another sandbox")
        return self._address

    def _offset(self, name: str) -> int:
        return self._address + self.layout(self._sandbox.model).offsets[name]

    def _read(self, name: str, t: FieldType) -> Any:
        return read_value(self._sandbox, self._offset(name), t,
                          f"{type(self).__name__}.{name}")

    def _write(self, name: str, t: FieldType, value: object) -> None:
        write_value(self._sandbox, self._offset(name), t, value, f"{type(self).__name__}.{name}")

    def snapshot(self) -> dict[str, Any]:
        """Every field, read once (a consistent copy for checking)."""
        return {name: self._read(name, t) for name, t in self._fields_}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at 0x{self._address:x}>"


setup_struct(Struct)
add_pointee(Struct, "_sandbox", "_address", None, False)  # passed as its address


def _scalar_format(t: Prim, model: DataModel) -> str:
    order = "<" if model.name == "wasm32" or sys.byteorder == "little" else ">"
    if t is Prim.FLOAT:
        return order + "f"
    if t is Prim.DOUBLE:
        return order + "d"
    codes = {1: "b", 2: "h", 4: "i", 8: "q"}
    code = codes[model.size(t)]
    return order + (code if model.is_signed(t) else code.upper())


def read_value(sb: Owner, address: int, t: FieldType, origin: str) -> Any:
    """Read a value of type ``t`` at ``address``: tainted scalars and pointers, views
    for nested structs, a tainted list (or bytes for char arrays) for arrays."""
    if isinstance(t, type) and issubclass(t, Struct):
        return t(sb, address)
    if isinstance(t, ArrayOf):
        if t.element in (Prim.CHAR, Prim.SCHAR, Prim.UCHAR):
            return Tainted(sb.memory.read(address, t.length), origin)
        step = size_align(t.element, sb.model)[0]
        items = [read_value(sb, address + i * step, t.element, origin) for i in range(t.length)]
        return Tainted([i.unverified_safe_because("re-tainted as a list")
                        if isinstance(i, Tainted) else i for i in items], origin)
    return value_reader(sb, t, origin)(address)


def value_reader(sb: Owner, t: Prim | Ptr | FuncPtr, origin: str) -> Callable[[int], Any]:
    """A function reading a scalar or pointer of type ``t`` at an address of ``sb``'s
    memory (bounds-checked): tainted, a ``TaintedPtr`` for a pointer, ``origin`` named."""
    read, memory = sb.memory.read, sb.memory
    if isinstance(t, (Ptr, FuncPtr)):
        size = sb.model.pointer_size
        order = "little" if sb.model.name == "wasm32" else sys.byteorder
        from_bytes = int.from_bytes
        return lambda address: TaintedPtr(from_bytes(read(address, size), order), memory,
                                          origin)
    fmt = _struct.Struct(_scalar_format(t, sb.model))
    unpack, size = fmt.unpack, fmt.size
    if t is Prim.BOOL:
        return lambda address: Tainted(bool(unpack(read(address, size))[0]), origin)
    return lambda address: Tainted(unpack(read(address, size))[0], origin)


def write_value(sb: Owner, address: int, t: FieldType, value: object, where: str) -> None:
    """Write ``value`` (range-checked for ``t``) at ``address``."""
    if isinstance(t, (ArrayOf, type)):
        if isinstance(t, ArrayOf) and isinstance(value, (bytes, bytearray)) \
                and t.element in (Prim.CHAR, Prim.SCHAR, Prim.UCHAR):
            if len(value) > t.length:
                raise ArgumentError(f"{where}: {len(value)} bytes do not fit char[{t.length}]")
            sb.memory.write(address, bytes(value).ljust(t.length, b"\0"))
            return
        raise ArgumentError(f"{where}: assign the fields of a nested struct or array one by one")
    if isinstance(value, (bytes, bytearray, memoryview, str)):  # a copy would not last
        raise ArgumentError(f"{where}: bytes cannot be stored in a struct field; "
                            "use sandbox.copy_in() and store the allocation")
    checked = converter(t, sb, where)(value, [])
    if isinstance(t, (Ptr, FuncPtr)):
        assert isinstance(checked, int)
        sb.memory.write(address, checked.to_bytes(sb.model.pointer_size,
                                                  "little" if sb.model.name == "wasm32"
                                                  else sys.byteorder))
        return
    sb.memory.write(address, _struct.pack(_scalar_format(t, sb.model), checked))


V = TypeVar("V", bound=Tainted[Any])


class Cell(Allocation, CellBase, Generic[V]):
    """One C value in the sandbox that a function writes through a pointer (an out-
    or in/out-parameter): made by ``sandbox.out(t)``, passed where the function takes
    ``t *``, read back with ``.value`` (tainted: ``V`` is ``Tainted[int]``,
    ``Tainted[float]``, ``Tainted[bool]`` or ``TaintedPtr``). It is as large as ``t``
    in the sandbox's data model, so the same code is right on wasm32 and natively (an
    ``alloc(4)`` for a ``size_t *`` overflows natively). Made, and ``.value`` read, by
    the compiled boundary (``CellBase``, sandboxlib/_boundary_heap.c); what it does not
    do is here."""

    __slots__ = ()
    ctype: Prim | Ptr | FuncPtr

    if TYPE_CHECKING:  # (CellBase's, in C)
        @property
        def value(self) -> V:
            """What is stored now."""

        @value.setter
        def value(self, value: object) -> None: ...

    def _value_slow(self) -> V:
        """``.value`` where C does not read it: raises for a freed cell or a closed
        sandbox."""
        read: Callable[[int], V] = value_reader(self._sandbox, self.ctype, f"out({self.ctype})")
        return read(self._live())

    def _set_value(self, value: object) -> None:
        write_value(self._sandbox, self._live(), self.ctype, value, f"out({self.ctype})")


setup_blocks(Allocation, Cell)  # what the compiled Heap makes
