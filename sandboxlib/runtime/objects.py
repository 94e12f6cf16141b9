"""The host's objects inside a sandbox: allocations it made there and callbacks it
registered, and ``Owner``, what they (and handles, struct views, converters) need of
the sandbox they belong to. ``Sandbox`` is an ``Owner``; these objects sit below it.
"""

from __future__ import annotations

from typing import Protocol

from .._boundary import Block
from ..abi import DataModel, Prim, Signature, function_type_decl, wasm_shape
from ..backends.memory import Memory
from ..errors import ArgumentError
from ..taint import Tainted
from .scalars import int_converter, truncate_to


class Owner(Protocol):
    """The sandbox an allocation, callback, handle or struct view belongs to."""

    model: DataModel
    memory: Memory

    @property
    def isolated(self) -> bool: ...

    @property
    def label(self) -> str:
        """The sandbox's name in messages."""
        ...

    def _check_open(self) -> None:
        """Raise ``ClosedError`` if the sandbox is closed."""
        ...

    def _check_usable(self) -> None: ...

    def temp_copy(self, data: bytes, temps: Temps) -> int: ...

    def copy_in(self, data: bytes | bytearray | memoryview,
                nul_terminate: bool = False) -> Allocation: ...

    def _remove_callback(self, handle: CallbackHandle, address: int) -> None: ...


class Allocation(Block):
    """A block of sandbox memory the host allocated with the sandbox's ``malloc``: made
    by the sandbox's compiled ``Heap`` (``sandboxlib/_boundary_heap.c``), which also
    frees it (``free()``; the address is 0 from then on, and once the sandbox closed)."""

    __slots__ = ()
    _sandbox: Owner

    def address_in(self, sandbox: object, where: str) -> int:
        if sandbox is not self._sandbox:
            raise ArgumentError(f"{where}: allocation belongs to another sandbox")
        return self._live(f"{where}: ")

    def write(self, data: bytes | bytearray | memoryview, offset: int = 0) -> None:
        """Copy ``data`` in at ``offset`` (must fit inside the allocation)."""
        if offset < 0 or offset + len(data) > self.size:
            raise ArgumentError(f"write of {len(data)} bytes at offset {offset} does not fit "
                                f"an allocation of {self.size} bytes")
        self._sandbox.memory.write(self._live() + offset, data)

    def read(self, length: int | None = None, offset: int = 0) -> Tainted[bytes]:
        """Copy bytes out; the sandbox may have written them, so they are tainted."""
        n = self.size - offset if length is None else length
        if offset < 0 or n < 0 or offset + n > self.size:
            raise ArgumentError(f"read of {n} bytes at offset {offset} does not fit an "
                                f"allocation of {self.size} bytes")
        return Tainted(self._sandbox.memory.read(self._live() + offset, n), "allocation")

    def read_int(self, t: Prim, offset: int = 0) -> Tainted[int]:
        """An integer of C type ``t`` stored at ``offset`` (out-parameters)."""
        size = self._sandbox.model.size(t)
        raw = int.from_bytes(self.read(size, offset).unverified_safe_because(
            "re-tainted below"), "little", signed=False)
        return Tainted(truncate_to(t, self._sandbox.model, raw), "allocation")

    def write_int(self, t: Prim, value: int, offset: int = 0) -> None:
        model = self._sandbox.model
        conv = int_converter(t, model, "write_int")
        checked = conv(value, [])
        assert isinstance(checked, int)
        self.write((checked & ((1 << 8 * model.size(t)) - 1)).to_bytes(model.size(t), "little"),
                   offset)

    def _live(self, where: str = "") -> int:
        """The address; the sandbox's ``ClosedError`` if it closed (which freed it)."""
        if not self.address:
            self._sandbox._check_open()
            raise ArgumentError(f"{where}allocation was already freed")
        return self.address

    def __enter__(self) -> Allocation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.free()

    def __repr__(self) -> str:
        return f"Allocation(0x{self.address:x}, {self.size} bytes)"


class CallbackHandle:
    """A Python callable made callable from the sandbox as a C function pointer."""

    __slots__ = ("_sandbox", "address", "sig", "name", "shape")

    def __init__(self, sandbox: Owner, address: int, sig: Signature, name: str) -> None:
        self._sandbox = sandbox
        self.address = address
        self.sig = sig
        self.name = name
        self.shape = wasm_shape(sig)  # compared on every call that passes it

    def address_in(self, sandbox: object, where: str) -> int:
        if sandbox is not self._sandbox:
            raise ArgumentError(f"{where}: callback {self.name} belongs to another sandbox")
        if not self.address:
            self._sandbox._check_open()
            raise ArgumentError(f"{where}: callback {self.name} was unregistered")
        return self.address

    def unregister(self) -> None:
        """Remove the callback; a later call to it from the sandbox traps."""
        if self.address:
            address, self.address = self.address, 0
            self._sandbox._remove_callback(self, address)

    def __repr__(self) -> str:
        where = f"0x{self.address:x}" if self.address else "unregistered"
        return (f"<CallbackHandle {self.name} {function_type_decl(self.sig)} in "
                f"{self._sandbox.label}: {where}>")


Temps = list[Allocation]  # copies made for one call, freed when it returns
