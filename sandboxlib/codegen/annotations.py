"""What a header cannot say, from a spec's ``[functions.NAME]`` tables.

```toml
[functions.crc32]
buffers = { buf = "len" }     # const data in: the helper takes bytes, fills len
[functions.deflateBound]
out = []                      # T* out-parameters (T an integer or a pointer), returned
nullable = ["strm"]           # pointer parameters the helper lets be None
keep = ["text"]               # const data the library keeps past the call: the helper
                              # copies bytes/str into an allocation living with the sandbox
returns = { string = true, max_len = 256, free = "my_free" }  # a C string result
skip = true                   # no proxy at all
```
Annotations only add high-level helpers (``lib.helpers.NAME``); the low-level
proxy method is always generated as the header declares it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..abi import FuncPtr, Prim, Ptr, Signature
from ..errors import BuildError

_KEYS = {"skip", "buffers", "out", "nullable", "keep", "returns"}


@dataclass
class Annotation:
    skip: bool = False
    buffers: dict[str, str] = field(default_factory=dict)  # data param -> length param
    out: list[str] = field(default_factory=list)
    nullable: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    string: bool = False
    max_len: int = 1 << 20
    free: str | None = None  # a library function, or "free" for the sandbox's own
    has_helper: bool = False  # any key but skip was given


def parse_annotation(name: str, table: Any, where: str) -> Annotation:
    """Check the shape of one ``[functions.NAME]`` table (``where``: the spec file)."""
    here = f"{where}: [functions.{name}]"
    if not isinstance(table, dict) or set(table) - _KEYS:
        raise BuildError(f"{here} may only set {', '.join(sorted(_KEYS))}")
    buffers = table.get("buffers", {})
    if not isinstance(buffers, dict) or not all(isinstance(v, str) for v in buffers.values()):
        raise BuildError(f"{here}: buffers must map a parameter to its length parameter")
    lists = {}
    for key in ("out", "nullable", "keep"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BuildError(f"{here}: {key} must be a list of parameter names")
        lists[key] = value
    returns = table.get("returns", {})
    if not isinstance(returns, dict) or set(returns) - {"string", "max_len", "free"}:
        raise BuildError(f"{here}: returns may set string, max_len and free")
    return Annotation(bool(table.get("skip", False)), dict(buffers), lists["out"],
                      lists["nullable"], lists["keep"], bool(returns.get("string", False)),
                      int(returns.get("max_len", 1 << 20)), returns.get("free"),
                      bool(set(table) - {"skip"}))


def check_annotation(name: str, ann: Annotation, sig: Signature,
                     pointee: dict[str, Prim | Ptr], functions: set[str], where: str) -> None:
    """Refuse annotations that do not fit the declaration (unknown parameter, a
    buffer that is not a const pointer, an out-parameter that is not T* of an
    integer or pointer T; ``pointee`` maps those parameters to T)."""
    here = f"{where}: [functions.{name}]"
    params = dict(zip(sig.param_names, sig.params))
    named = [*ann.buffers, *ann.buffers.values(), *ann.out, *ann.nullable, *ann.keep]
    for p in named:
        if p not in params:
            raise BuildError(f"{here}: {name} has no parameter {p!r} "
                             f"(it has {', '.join(sig.param_names) or 'none'})")
    for data, length in ann.buffers.items():
        buf, size = params[data], params[length]
        if not (isinstance(buf, Ptr) and buf.const):
            raise BuildError(f"{here}: buffer {data!r} must be a const pointer")
        if not (isinstance(size, Prim) and size.is_integer):
            raise BuildError(f"{here}: length {length!r} must be an integer parameter")
    for p in ann.out:
        target = params[p]
        if p not in pointee or (isinstance(target, Ptr) and target.const):
            raise BuildError(f"{here}: out-parameter {p!r} must point to an integer or a "
                             "pointer")
    for p in ann.nullable:
        if not isinstance(params[p], (Ptr, FuncPtr)):
            raise BuildError(f"{here}: nullable {p!r} is not a pointer")
    for p in ann.keep:
        kept = params[p]
        if not (isinstance(kept, Ptr) and kept.const) or p in ann.buffers:
            raise BuildError(f"{here}: keep {p!r} must be a const pointer (not a buffer, "
                             "whose copy lasts the call)")
    if ann.string and not isinstance(sig.result, Ptr):
        raise BuildError(f"{here}: returns.string needs a pointer result")
    if ann.free not in (None, "free") and ann.free not in functions:
        raise BuildError(f"{here}: free function {ann.free!r} is not exported")
