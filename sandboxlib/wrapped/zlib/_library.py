"""What zlib's return codes mean here, and the version string its calls are checked
against (the generated package itself is ``_package``, typed by its generated stub)."""

from __future__ import annotations

from . import _package
from ._package import (Z_BUF_ERROR, Z_DATA_ERROR, Z_MEM_ERROR, Z_NEED_DICT, Z_OK,
                       Z_STREAM_END, Z_STREAM_ERROR, Z_VERSION_ERROR)

GENERATED = _package
"""The generated package under its earlier name (``Opener("sandboxlib.wrapped.zlib.
_library:GENERATED")``)."""
VERSION: bytes = _package.ZLIB_VERSION.encode()

# What each zlib function may return; anything else means the sandbox misbehaved.
DEFLATE_CODES = frozenset({Z_OK, Z_STREAM_END, Z_STREAM_ERROR, Z_BUF_ERROR})
INFLATE_CODES = frozenset({Z_OK, Z_STREAM_END, Z_NEED_DICT, Z_STREAM_ERROR, Z_DATA_ERROR,
                           Z_MEM_ERROR, Z_BUF_ERROR})
INIT_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_MEM_ERROR, Z_VERSION_ERROR})
END_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_DATA_ERROR})
DICT_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_DATA_ERROR})
COPY_CODES = frozenset({Z_OK, Z_STREAM_ERROR, Z_MEM_ERROR})
