"""Where deflate/inflate output goes: CPython's block output buffer, block for block,
and the bound on what deflate can emit."""

from __future__ import annotations

from ._errors import LimitExceeded

# CPython's output block sizes (Include/internal/pycore_blocks_output_buffer.h).
_KB, _MB = 1 << 10, 1 << 20
BLOCKS = (32 * _KB, 64 * _KB, 256 * _KB, 1 * _MB, 4 * _MB, 8 * _MB, 16 * _MB, 16 * _MB,
          32 * _MB, 32 * _MB, 32 * _MB, 32 * _MB, 64 * _MB, 64 * _MB, 128 * _MB, 128 * _MB,
          256 * _MB)


class Output:
    """CPython's block output buffer, so zlib sees the same ``avail_out`` at every call
    as under CPython (level 0 output depends on it); each block lives in sandbox
    memory, what a call wrote to it is copied out as one piece, and ``result()`` joins
    the pieces (one copy more, none for a single piece, as CPython's joined blocks).
    ``limit`` caps the total: the last block is cut to one byte past it, and producing
    that byte raises ``LimitExceeded``."""

    def __init__(self, first: int, max_length: int = -1, limit: int | None = None,
                 over: str = "") -> None:
        self.pieces: list[bytes] = []
        self.length = 0  # bytes taken
        self.blocks = 1
        self.allocated = first
        self.max_length = max_length
        self.limit = limit
        self.over = over
        self.used = 0
        self.size = self._cut(first)

    @classmethod
    def grown(cls, max_length: int = -1, limit: int | None = None, over: str = "") -> Output:
        """CPython's ``OutputBuffer_InitAndGrow``: a first block of 32 KiB (or max_length)."""
        first = max_length if 0 <= max_length < BLOCKS[0] else BLOCKS[0]
        return cls(first, max_length, limit, over)

    def _cut(self, size: int) -> int:
        if self.limit is not None:
            size = min(size, self.limit - self.length + 1)
        return size

    @property
    def avail(self) -> int:
        return self.size - self.used

    def grow(self) -> None:
        size = BLOCKS[min(self.blocks, len(BLOCKS) - 1)]
        if self.max_length >= 0:
            size = min(size, self.max_length - self.allocated)
        self.blocks += 1
        self.allocated += size
        self.used = 0
        self.size = self._cut(size)

    def take(self, produced: bytes) -> None:
        self.pieces.append(produced)
        self.length += len(produced)
        self.used += len(produced)
        if self.limit is not None and self.length > self.limit:
            raise LimitExceeded(self.over)

    def result(self) -> bytes:
        """Everything taken, in order."""
        return b"".join(self.pieces)


def output_bound(total_in: int, calls: int) -> int:
    """More than deflate can emit for ``total_in`` bytes over ``calls`` calls (zlib's
    deflateBound for any parameters, plus flush markers and the gzip wrapper)."""
    return total_in + ((total_in + 7) >> 3) + ((total_in + 63) >> 6) + 1024 + 64 * calls
