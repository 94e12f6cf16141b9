"""The wasm name of a translated function, from the C name wasm2c gave it (for traps):
its export's, or the module's name section's for ``f<index>`` (wasm2c translates with
the names ignored: ``translate.wasm2c_flags``)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from ._csrc import MODULE_NAME

PREFIX = f"w2c_{MODULE_NAME}_"
# wasm2c writes a character C does not allow as 0x<two upper-case hex digits> (and
# escapes the character after a literal "0x" likewise, so the reading is unambiguous).
_ESCAPED = re.compile(rb"0x([0-9A-F]{2})")
# A function whose name an export wrapper already took gets a suffix: entry -> entry_0.
_SUFFIXED = re.compile(r"(.+)_[0-9]+")
_INDEXED = re.compile(r"f([0-9]+)")  # a function no export names


def wasm_function_name(c_name: str, exports: Collection[str],
                       names: Mapping[int, str]) -> str | None:
    """The function's wasm name (``names``: the name section's, by function index), or
    None if ``c_name`` is not a translated function (wasm2c's inline load and store
    helpers trap in their own name)."""
    if not c_name.startswith(PREFIX):
        return None
    raw = _ESCAPED.sub(lambda m: bytes([int(m[1], 16)]), c_name[len(PREFIX):].encode())
    name = raw.decode("utf-8", "replace")
    suffixed = _SUFFIXED.fullmatch(name)
    if suffixed and suffixed[1] in exports:
        return suffixed[1]
    indexed = _INDEXED.fullmatch(name)
    return names.get(int(indexed[1]), name) if indexed and name not in exports else name
