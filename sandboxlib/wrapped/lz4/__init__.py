"""lz4's block format, sandboxed: ``compress`` and ``decompress``, interchangeable with
python-lz4's ``lz4.block.compress(data, store_size=False)`` and
``lz4.block.decompress(data, uncompressed_size=n)``.

Built from lz4 1.10.0 fetched pinned from Debian's archive and wrapped from its own
header by ``sandboxlib wrap`` (``lz4.toml``). Every call runs in a sandbox of the
calling thread (one per thread and backend, reused, replaced after a failure that was
not the input's; a call re-entered while one runs gets its own); what comes back is
checked: the compressed size against the bound the host gave, the decompressed size
against the size the caller expects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandboxlib import Allocation, SandboxError
from sandboxlib.wrapped._skeleton import Kept, PerThread

from . import _package

MAX_INPUT = 0x7E000000  # LZ4_MAX_INPUT_SIZE: the largest block lz4 compresses
_MAX_BLOCK = MAX_INPUT + MAX_INPUT // 255 + 16  # compress_bound(MAX_INPUT)
__all__ = ["LZ4BlockError", "compress", "compress_bound", "decompress"]


if TYPE_CHECKING:
    _PyLz4Error = Exception
else:
    try:  # python-lz4 is optional: subclass its error only where it is installed
        from lz4.block import LZ4BlockError as _PyLz4Error
    except ImportError:
        _PyLz4Error = Exception


class LZ4BlockError(SandboxError, _PyLz4Error):
    """Bad input, or a sandbox that answered outside what it was asked (also a
    ``lz4.block.LZ4BlockError`` when python-lz4 is installed)."""


def compress_bound(size: int) -> int:
    """The most bytes ``size`` bytes compress to (lz4.h's LZ4_COMPRESSBOUND)."""
    return size + size // 255 + 16


class _Block(Kept["_package.Lz4"]):
    """One sandbox with an input and an output buffer, grown as blocks need."""

    def __init__(self, backend: str) -> None:
        super().__init__(_package.sandbox(backend))
        self.memory = self.lib.sandbox.memory
        self.src: Allocation = self.lib.alloc(4096)
        self.dst: Allocation = self.lib.alloc(4096)

    def buffers(self, src: int, dst: int) -> tuple[Allocation, Allocation]:
        """The input and output buffers, holding ``src`` and ``dst`` bytes at least."""
        if self.src.size < src:
            self.src.free()
            self.src = self.lib.alloc(src)
        if self.dst.size < dst:
            self.dst.free()
            self.dst = self.lib.alloc(dst)
        return self.src, self.dst


_blocks = PerThread(_Block, keep_on=(LZ4BlockError,))
"""Each thread's sandbox per backend; an ``LZ4BlockError`` (bad input) leaves it in use."""


def _bytes(data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    return data if type(data) is bytes or isinstance(data, bytearray) else memoryview(
        data).cast("B")


def compress(data: bytes | bytearray | memoryview, acceleration: int = 1, *,
             backend: str | None = None) -> bytes:
    """``data`` as one lz4 block (no size header)."""
    data = _bytes(data)
    size = len(data)
    if size > MAX_INPUT:
        raise LZ4BlockError(f"{size} bytes is more than lz4 compresses in one block")
    bound = compress_bound(size)
    with _blocks.borrow(backend) as block:
        src, dst = block.buffers(size, bound)
        block.memory.write(src.address, data)
        written = block.lib.LZ4_compress_fast(src, dst, size, bound, acceleration).verify_range(
            1, bound)  # 0: lz4 could not (it always can with this bound)
        return block.memory.read(dst.address, written)


def decompress(data: bytes | bytearray | memoryview, uncompressed_size: int, *,
               backend: str | None = None) -> bytes:
    """The ``uncompressed_size`` bytes ``data`` (one lz4 block) decompresses to."""
    data = _bytes(data)
    size = len(data)
    if not 0 <= uncompressed_size <= MAX_INPUT or size > _MAX_BLOCK:
        raise LZ4BlockError(f"sizes out of range: {size} in, {uncompressed_size} out")
    with _blocks.borrow(backend) as block:
        return _decompress_in(block, data, uncompressed_size)


def _decompress_in(block: _Block, data: bytes | bytearray | memoryview,
                   uncompressed_size: int) -> bytes:
    """``decompress`` in ``block``'s sandbox (sizes checked by the caller)."""
    size = len(data)
    src, dst = block.buffers(size, uncompressed_size)
    block.memory.write(src.address, data)
    got = block.lib.LZ4_decompress_safe(src, dst, size, uncompressed_size)
    if got.unverified_safe_because("compared with the size expected") != uncompressed_size:
        raise LZ4BlockError(f"corrupt lz4 block, or not of {uncompressed_size} bytes "
                            f"(lz4 says {got.unverified_safe_because('an error message')})")
    return block.memory.read(dst.address, uncompressed_size)
