"""The streaming objects, ``Compress`` and ``Decompress``: a z_stream that lives
across calls, in a sandbox of its own (shared with its copies)."""

from __future__ import annotations

import operator
from types import TracebackType
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sandboxlib import SandboxError, UnknownBackendError

from . import _core
from ._args import as_buffer, c_int, output_limit, over_message
from ._constants import (DEF_BUF_SIZE, DEF_MEM_LEVEL, DEFAULT_MAX_OUTPUT, DEFLATED, MAX_WBITS,
                         Z_DEFAULT_COMPRESSION, Z_DEFAULT_STRATEGY, Z_FINISH, Z_NO_FLUSH,
                         Z_SYNC_FLUSH)
from ._core import Stream
from ._errors import LimitExceeded, error, insist, zlib_error
from ._package import Z_BUF_ERROR, Z_MEM_ERROR, Z_NEED_DICT, Z_OK, Z_STREAM_END, Z_STREAM_ERROR
from ._output import Output, output_bound

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


_S = TypeVar("_S", bound="_Streaming")


class _Streaming:
    """A z_stream that lives across calls, in a sandbox of its own (or shared with
    its copies). A failed sandbox breaks the object; it is never called again."""

    _DEFLATING = True

    def __init__(self, stream: Stream) -> None:
        self._stream: Stream | None = stream
        self._lock = stream.session.lock
        self._broken: str | None = None

    @classmethod
    def _start(cls, backend: str | None, key: tuple[object, ...]) -> Stream:
        """A stream in a sandbox of its own, initialized already if one initialized as
        ``key`` says was kept warm (``_core.start``)."""
        try:
            return _core.start(backend, key)
        except SandboxError as exc:
            if isinstance(exc, (error, UnknownBackendError)):  # misuse stays a ValueError
                raise
            raise error(f"cannot start a zlib stream: {exc}") from exc

    def _use(self, what: str) -> _Using:
        """The live stream (None once ended), locked; failures break the object."""
        return _Using(self, what)

    def interrupt(self) -> bool:
        """Stop this object's running call from another thread (an asyncio server
        enforcing its deadline): the call raises ``error`` (from the sandbox's
        ``Interrupted``) and the object cannot be used again. False if no call was
        running. The native backend cannot stop one: ``SandboxError``."""
        stream = self._stream  # (no lock: the running call holds it)
        return stream is not None and stream.lib.sandbox.interrupt()

    def _break(self, reason: str, discard: bool) -> None:
        self._broken = reason
        stream, self._stream = self._stream, None
        if stream is not None:
            if discard:
                stream.session.close()
            stream.release()

    def _finish(self) -> None:
        """After deflateEnd/inflateEnd: the sandbox-side state is gone."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.release()

    def _init_error(self, code: int, what: str) -> BaseException:
        assert self._stream is not None
        if code == Z_MEM_ERROR:
            return error(f"Can't allocate memory for {what} object")
        if code == Z_STREAM_ERROR:
            return ValueError("Invalid initialization option")
        return zlib_error(code, f"while creating {what} object", self._stream.message())

    @classmethod
    def _adopt(cls: type[_S], stream: Stream) -> _S:
        """An object of this class around ``stream`` (the caller sets the rest)."""
        obj = cls.__new__(cls)
        _Streaming.__init__(obj, stream)
        return obj

    def _copy_stream(self) -> Stream:
        """A new z_stream in the same sandbox with this one's state (deflateCopy/inflateCopy)."""
        with self._use("copying") as stream:
            if stream is None:
                raise ValueError("Inconsistent stream state")
            twin = Stream(stream.session)
            try:
                code = twin.copy_from(stream, self._DEFLATING)
                if code == Z_STREAM_ERROR:
                    raise ValueError("Inconsistent stream state")
                if code == Z_MEM_ERROR:
                    kind = "compression" if self._DEFLATING else "decompression"
                    raise error(f"Can't allocate memory for {kind} object")
                if code != Z_OK:
                    raise zlib_error(code, "while copying", stream.message())
            except BaseException:
                twin.release()
                raise
            return twin

    def __del__(self) -> None:
        try:
            if self._stream is not None:
                self._stream.session.release()  # no sandbox calls from a finalizer
                self._stream = None
        except Exception:
            pass


class _Using:
    """``_Streaming._use``: a class, not a generator, since every call of a stream
    (three per fresh request) enters one."""

    __slots__ = ("_owner", "_what")

    def __init__(self, owner: _Streaming, what: str) -> None:
        self._owner, self._what = owner, what

    def __enter__(self) -> Stream | None:
        owner = self._owner
        owner._lock.acquire()
        if owner._broken is not None:
            owner._lock.release()
            raise error(f"this {type(owner).__name__} object cannot be used: {owner._broken}")
        return owner._stream

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        owner, what = self._owner, self._what
        try:
            if isinstance(exc, LimitExceeded):
                owner._break(str(exc), discard=False)
            elif isinstance(exc, SandboxError) and not isinstance(exc, error):
                owner._break(f"its sandbox failed while {what} ({exc})", discard=True)
                raise error(f"zlib sandbox failed while {what}: {exc}") from exc
        finally:
            owner._lock.release()


class Compress(_Streaming):
    """A compressor (``compressobj()``), as ``zlib.Compress``."""

    def __init__(self, level: int = Z_DEFAULT_COMPRESSION, method: int = DEFLATED,
                 wbits: int = MAX_WBITS, memLevel: int = DEF_MEM_LEVEL,
                 strategy: int = Z_DEFAULT_STRATEGY, zdict: ReadableBuffer | None = None, *,
                 backend: str | None = None) -> None:
        self._total_in = self._total_out = self._calls = 0
        args = [c_int(v) for v in (level, method, wbits, memLevel, strategy)]
        dictionary = None if zdict is None else as_buffer(zdict)
        if dictionary is not None and len(dictionary) > _core.UINT_MAX:
            raise OverflowError("zdict length does not fit in an unsigned int")
        key = ("deflate", *args)
        started = self._start(backend, key)
        super().__init__(started)
        if started.ready and dictionary is None:
            return  # started from the warm snapshot, no dictionary to set: nothing to call
        try:
            with self._use("creating a compression object") as stream:
                assert stream is not None
                if not stream.ready:
                    code = stream.deflate_init(*args)
                    if code != Z_OK:
                        raise self._init_error(code, "compression")
                    _core.keep_warm(stream, key)  # before the caller's dictionary
                if dictionary is not None:
                    code = stream.set_dictionary(True, dictionary)
                    if code != Z_OK:
                        raise ValueError("Invalid dictionary" if code == Z_STREAM_ERROR
                                         else "deflateSetDictionary()")
        except BaseException:
            self._finish()
            raise

    def _out(self, size_in: int) -> Output:
        self._total_in += size_in
        self._calls += 1
        return Output.grown(limit=output_bound(self._total_in, self._calls) - self._total_out,
                            over="compressed output exceeds deflate's bound")

    def _deflate(self, stream: Stream, flush: int, out: Output, what: str) -> int:
        while True:
            if out.avail == 0:
                out.grow()
            code = stream.call(True, flush, out)
            if code == Z_STREAM_ERROR:
                raise zlib_error(code, what, stream.message())
            if out.avail != 0:
                return code

    def compress(self, data: ReadableBuffer, /) -> bytes:
        """Compress ``data``; some of it may stay buffered until ``flush()``."""
        view = as_buffer(data)
        with self._use("compressing data") as stream:
            if stream is None:
                raise zlib_error(Z_STREAM_ERROR, "while compressing data", None)
            out = self._out(len(view))
            stream.feed(view)
            while True:
                stream.arrange()
                self._deflate(stream, Z_NO_FLUSH, out, "while compressing data")
                insist(stream.avail_in == 0, "deflate left input with output room")
                if stream.unarranged == 0:
                    break
            self._total_out += out.length
            return out.result()

    def flush(self, mode: int = Z_FINISH, /) -> bytes:
        """Flush with ``mode``; after Z_FINISH the object cannot be used again."""
        mode = c_int(mode)
        if mode == Z_NO_FLUSH:
            return b""
        with self._use("flushing") as stream:
            if stream is None:
                raise zlib_error(Z_STREAM_ERROR, "while flushing", None)
            out = self._out(0)
            stream.feed(memoryview(b""))
            code = self._deflate(stream, mode, out, "while flushing")
            self._total_out += out.length
            if code == Z_STREAM_END and mode == Z_FINISH:
                code = stream.end(True)
                if code != Z_OK:
                    raise zlib_error(code, "while finishing compression", stream.message())
                self._finish()
            elif code not in (Z_OK, Z_BUF_ERROR):
                raise zlib_error(code, "while flushing", stream.message())
            return out.result()

    def copy(self) -> Compress:
        """A copy of the compressor's state (sharing its sandbox)."""
        twin = self._adopt(self._copy_stream())
        twin._total_in, twin._total_out, twin._calls = self._total_in, self._total_out, self._calls
        return twin

    __copy__ = copy

    def __deepcopy__(self, memo: object) -> Compress:
        return self.copy()


class Decompress(_Streaming):
    """A decompressor (``decompressobj()``), as ``zlib.Decompress``, with the
    output guard ``max_output`` over its whole life."""

    _DEFLATING = False

    def __init__(self, wbits: int = MAX_WBITS, zdict: ReadableBuffer = b"", *,
                 max_output: int | None = DEFAULT_MAX_OUTPUT,
                 backend: str | None = None) -> None:
        try:
            self._zdict = as_buffer(zdict) if len(memoryview(zdict)) else None
        except TypeError:
            raise TypeError("zdict argument must support the buffer protocol") from None
        self._limit = output_limit(max_output)
        self._produced = 0
        self._unused_data = b""
        self._unconsumed_tail = b""
        self._eof = False
        wbits = c_int(wbits)
        if self._zdict is not None and len(self._zdict) > _core.UINT_MAX:
            raise OverflowError("zdict length does not fit in an unsigned int")
        key = ("inflate", wbits)
        started = self._start(backend, key)
        super().__init__(started)
        if started.ready and (self._zdict is None or wbits >= 0):
            return  # started from the warm snapshot, no dictionary to set: nothing to call
        try:
            with self._use("creating a decompression object") as stream:
                assert stream is not None
                if not stream.ready:
                    code = stream.inflate_init(wbits)
                    if code != Z_OK:
                        raise self._init_error(code, "decompression")
                    _core.keep_warm(stream, key)  # before the caller's dictionary
                if self._zdict is not None and wbits < 0:
                    self._set_zdict(stream)
        except BaseException:
            self._finish()
            raise

    @property
    def unused_data(self) -> bytes:
        """Bytes after the end of the compressed stream."""
        return self._unused_data

    @property
    def unconsumed_tail(self) -> bytes:
        """Input not yet decompressed because ``max_length`` was reached."""
        return self._unconsumed_tail

    @property
    def eof(self) -> bool:
        """Whether the end of the compressed stream was reached."""
        return self._eof

    def _set_zdict(self, stream: Stream) -> None:
        assert self._zdict is not None
        code = stream.set_dictionary(False, self._zdict)
        if code != Z_OK:
            raise zlib_error(code, "while setting zdict", stream.message())

    def _output(self, first: int | None, max_length: int = -1) -> Output:
        limit = None if self._limit is None else self._limit - self._produced
        if first is None:
            return Output.grown(max_length, limit, over_message(self._limit))
        return Output(first, max_length, limit, over_message(self._limit))

    def _save(self, stream: Stream, data: memoryview, code: int) -> None:
        """CPython's ``save_unconsumed_input``, from the host's copy of the input."""
        if code == Z_STREAM_END and stream.avail_in > 0:
            self._unused_data += data[stream.pos:]
            stream.avail_in = 0
        if stream.avail_in > 0 or self._unconsumed_tail:
            self._unconsumed_tail = bytes(data[stream.pos:])

    def decompress(self, data: ReadableBuffer, /, max_length: int = 0) -> bytes:
        """Decompress ``data``: at most ``max_length`` bytes if it is not 0 (the rest of
        the input goes to ``unconsumed_tail``)."""
        view, max_length = as_buffer(data), operator.index(max_length)
        if max_length < 0:
            raise ValueError("max_length must be non-negative")
        if max_length == 0:
            max_length = -1
        with self._use("decompressing data") as stream:
            if stream is None:  # CPython: inflate fails on the ended stream, input is saved
                if len(view) or self._unconsumed_tail:
                    self._unconsumed_tail = bytes(view)
                raise zlib_error(Z_STREAM_ERROR, "while decompressing data", None)
            out = self._output(None, max_length)
            stream.feed(view)
            code = self._inflate(stream, out, max_length)
            self._save(stream, view, code)
            self._produced += out.length
            if code == Z_STREAM_END:
                self._eof = True
            elif code not in (Z_OK, Z_BUF_ERROR):
                raise zlib_error(code, "while decompressing data", stream.message())
            return out.result()

    def _inflate(self, stream: Stream, out: Output, max_length: int) -> int:
        return inflate(stream, out, max_length,
                       None if self._zdict is None else self._set_zdict)

    def flush(self, length: int = DEF_BUF_SIZE, /) -> bytes:
        """Decompress what is left of ``unconsumed_tail``; ends the stream at its end."""
        length = operator.index(length)
        if length <= 0:
            raise ValueError("length must be greater than zero")
        with self._use("flushing") as stream:
            if stream is None:
                return b""  # CPython: inflate on an ended stream fails; flush ignores it
            if self._eof and not self._unconsumed_tail:
                self._end(stream)  # inflate said Z_STREAM_END: it would again, with nothing
                return b""
            data = memoryview(self._unconsumed_tail)
            out = self._output(min(length, _core.FIRST_BLOCK_MAX))
            stream.feed(data)
            code = Z_OK
            while True:
                flush = Z_FINISH if stream.arrange() == 0 else Z_NO_FLUSH
                code = self._drain(stream, out, flush)
                if code not in (Z_OK, Z_BUF_ERROR, Z_STREAM_END):
                    break
                if code == Z_STREAM_END or stream.unarranged == 0:
                    break
            self._save(stream, data, code)
            self._produced += out.length
            if code == Z_STREAM_END:
                self._eof = True
                self._end(stream)
            return out.result()

    def _end(self, stream: Stream) -> None:
        """inflateEnd, after the end of the stream."""
        code = stream.end(False)
        message = stream.message() if code != Z_OK else None
        self._finish()
        if code != Z_OK:
            raise zlib_error(code, "while finishing decompression", message)

    @staticmethod
    def _drain(stream: Stream, out: Output, flush: int) -> int:
        while True:
            if out.avail == 0:
                out.grow()
            code = stream.call(False, flush, out)
            if code not in (Z_OK, Z_BUF_ERROR, Z_STREAM_END) or out.avail != 0:
                return code

    def copy(self) -> Decompress:
        """A copy of the decompressor's state (sharing its sandbox)."""
        twin = self._adopt(self._copy_stream())
        twin._zdict, twin._limit = self._zdict, self._limit
        twin._produced, twin._eof = self._produced, self._eof
        twin._unused_data, twin._unconsumed_tail = self._unused_data, self._unconsumed_tail
        return twin

    __copy__ = copy

    def __deepcopy__(self, memo: object) -> Decompress:
        return self.copy()


def inflate(stream: Stream, out: Output, max_length: int,
            set_zdict: Callable[[Stream], None] | None) -> int:
    """CPython's decompress loop (``set_zdict`` answers Z_NEED_DICT, None: not
    answered); returns the last code (its ``goto save``)."""
    code, dict_set = Z_OK, False
    while True:
        stream.arrange()
        while True:
            if out.avail == 0:
                if out.length == max_length:
                    return code
                out.grow()
            code = stream.call(False, Z_SYNC_FLUSH, out)
            if code == Z_NEED_DICT and set_zdict is not None:
                insist(not dict_set, "inflate asked for the dictionary twice")
                set_zdict(stream)
                dict_set = True
            elif code not in (Z_OK, Z_BUF_ERROR, Z_STREAM_END):
                return code
            if out.avail != 0 and code != Z_NEED_DICT:
                break
        if code == Z_STREAM_END or stream.unarranged == 0:
            return code


Compress.__module__ = Decompress.__module__ = "sandboxlib.wrapped.zlib"
