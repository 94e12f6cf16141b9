"""The compiled boundary (sandboxlib/_boundary.c)."""

from typing import Any, Callable

RAW_UNIFORM: int
RAW_WASMTIME: int
RAW_PYTHON: int
MAX_PARAMS: int

def setup(tainted: type, tainted_ptr: type, argument_error: type, /) -> None: ...

class Gate:
    unusable: bool
    borrowed: bool
    @property
    def depth(self) -> int: ...
    def enter(self) -> bool: ...
    def leave(self) -> None: ...

class Plan:
    name: str
    def __init__(self, function: object, name: str, origin: str, kinds: bytes,
                 lo: tuple[int, ...], hi: tuple[int, ...], result: str, field: str, bits: int,
                 signed: bool) -> None: ...

class Caller:
    __name__: str
    def __init__(self, gate: Gate, plan: Plan, sandbox: Any, memory: Any,
                 failed: Callable[[int, int], None], form: int, fn: int, ctx: int,
                 handle: bytes, set_deadline: int, deadline: int,
                 raw: Callable[..., Any] | None, keep: object) -> None: ...
    def __call__(self, *args: Any) -> Any: ...
