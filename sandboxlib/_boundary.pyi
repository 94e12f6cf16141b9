"""The compiled boundary (sandboxlib/_boundary.c)."""

from typing import Any, Callable

RAW_UNIFORM: int
RAW_WASMTIME: int
RAW_PYTHON: int
MAX_PARAMS: int

def setup(tainted: type, tainted_ptr: type, argument_error: type, /) -> None: ...
def add_pointee(type: type, owner: str, address: str, shape: str | None, nonzero: bool,
                /) -> None: ...

class Gate:
    unusable: bool
    borrowed: bool
    scratch: int
    scratch_size: int
    scratch_top: int

class Plan:
    name: str
    def __init__(self, function: object, name: str, origin: str, kinds: bytes,
                 lo: tuple[int, ...], hi: tuple[int, ...], shapes: tuple[str | None, ...],
                 result: str, field: str, bits: int, signed: bool) -> None: ...

class Caller:
    __name__: str
    def __init__(self, gate: Gate, plan: Plan, sandbox: Any, memory: Any,
                 failed: Callable[[int, int], None] | None, form: int, fn: int, ctx: int,
                 handle: bytes, set_deadline: int, deadline: int,
                 raw: Callable[..., Any] | None, keep: object) -> None: ...
    def __call__(self, *args: Any) -> Any: ...

CALLBACK_DISPATCH: int

def wasmtime_callbacks(trap_new: int, /) -> int: ...

class Callback:
    def __init__(self, gate: Gate, fn: Callable[..., Any], memory: Any, slow: Any,
                 origins: tuple[str, ...], lifts: tuple[tuple[str, str, int, bool], ...],
                 result: tuple[str, int, int] | None, max_depth: int) -> None: ...
    @property
    def address(self) -> int: ...
    def remove(self) -> None: ...
    def __call__(self, *raw: int | float) -> int | float | None: ...

REGION_CLOSED: int
REGION_UNIFORM: int
REGION_WASMTIME: int
REGION_HOST: int

class Region:
    def read(self, address: int, length: int, /) -> bytes: ...
    def write(self, address: int, data: bytes | bytearray | memoryview, /) -> None: ...
    def read_cstring(self, address: int, max_len: int, /) -> bytes: ...
    def _attach(self, form: int, fn: int, fn2: int, ctx: int, handle: bytes, keep: Any,
                release: int, /) -> None: ...
    def _detach(self) -> None: ...

def setup_struct(struct: type, /) -> None: ...

class Field:
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> Any: ...
    def __init__(self, name: str, type: Any, /) -> None: ...
