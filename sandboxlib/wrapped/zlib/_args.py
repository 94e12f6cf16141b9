"""Arguments converted as CPython's ``zlib`` converts them."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, SupportsIndex

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


def as_buffer(data: ReadableBuffer) -> memoryview:
    """``data`` as a flat byte view (CPython's ``Py_buffer`` conversion)."""
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError("a bytes-like object is required, not "
                        f"'{type(data).__name__}'") from None
    if not view.c_contiguous:
        raise BufferError("the buffer is not C-contiguous")
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def c_int(value: SupportsIndex) -> int:
    """An ``int`` argument as CPython's ``int`` converter takes it."""
    n = operator.index(value)
    if not -0x80000000 <= n <= 0x7FFFFFFF:
        raise OverflowError("Python int too large to convert to C int")
    return n


def output_limit(max_output: int | None) -> int | None:
    """``max_output`` checked: a byte count, or None for no limit."""
    if max_output is None:
        return None
    n = operator.index(max_output)
    if n < 0:
        raise ValueError("max_output must be non-negative or None")
    return n


def over_message(limit: int | None) -> str:
    """The message of the ``LimitExceeded`` raised when ``limit`` is passed."""
    return f"decompressed data exceeds max_output={limit} bytes (a decompression bomb?)"
