"""``Inflater``: many small zlib streams, one after another, in one sandbox of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandboxlib import Sandbox, SandboxError

from . import _core
from ._args import as_buffer
from ._constants import MAX_WBITS
from ._errors import error, zlib_error
from ._output import Output
from ._package import Z_BUF_ERROR, Z_OK, Z_STREAM_END
from ._streaming import inflate

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class Inflater:
    """Streams inflated one after another in one sandbox of its own (on ``backend``),
    each as a fresh ``decompressobj().decompress(data, max_length)`` inflates it, and
    ended (``inflateEnd``) before the next, so that the sandbox's memory does not grow
    with their number: for a caller whose streams come from one source (the chunks of
    one file), where a sandbox per stream costs more than the inflating. A sandbox
    that fails raises ``error`` and is closed (``closed``), as ``close()`` closes it."""

    def __init__(self, backend: str | None = None) -> None:
        self._session = _core.Session(backend)
        self._session.users = 1  # its own hold: streams come and go
        self.sandbox: Sandbox = self._session.lib.sandbox

    @property
    def closed(self) -> bool:
        return self._session.closed

    def inflate(self, data: ReadableBuffer, max_length: int) -> tuple[bytes, bool]:
        """What ``decompress(data, max_length)`` of a fresh ``decompressobj()`` returns
        (the stream broken off: what it holds; bad data: ``error``), and whether it
        left input unconsumed (its ``unconsumed_tail``: output stopped at
        ``max_length``)."""
        view = as_buffer(data)
        session = self._session
        if session.closed:
            raise error("this Inflater's sandbox is closed")
        try:
            stream = session.scratch()
            code = stream.inflate_init(MAX_WBITS)
            if code != Z_OK:
                raise zlib_error(code, "while creating decompression object", stream.message())
            out = Output.grown(max_length)
            stream.feed(view)
            code = inflate(stream, out, max_length, None)
            message = stream.message() if code not in (Z_OK, Z_BUF_ERROR, Z_STREAM_END) else None
            left = code != Z_STREAM_END and stream.avail_in > 0
            stream.end(False)
        except SandboxError as exc:
            if isinstance(exc, error):
                raise
            session.close()
            raise error(f"zlib sandbox ({session.backend}) failed while decompressing "
                        f"data: {exc}") from exc
        if code not in (Z_OK, Z_BUF_ERROR, Z_STREAM_END):
            raise zlib_error(code, "while decompressing data", message)
        return out.result(), left

    def close(self) -> None:
        self._session.close()
