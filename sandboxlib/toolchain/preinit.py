"""Pre-initialization: run a module's start-up once, bake the result into the module.

Like Wizer: instantiate the module with no capabilities (no clock, no randomness,
no files, no environment: nothing a sandbox was not granted is baked into the
image) under the limits of the sandbox that asked (memory, tables, fuel, and its
timeout or ``STARTUP_TIMEOUT``), run ``_initialize`` (libc and the library's
constructors), then write a new module whose data segments hold the initialized
memory and whose globals start at their initialized values, with ``_initialize``
no longer exported. Every sandbox then starts from that image (mapped
copy-on-write by wasmtime, one copy by wasm2c) and runs no start-up code. A
start-up that runs out of time or fuel raises ``ResourceError`` and nothing is
cached. One that ends using more than half the memory limit makes no image: a
growth it asked for may have been refused, so what it built could depend on the
limit; every sandbox then runs its own start-up under its own limits, as does a
sandbox whose memory limit is below the image's size.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import wasmtime

from ..errors import BuildError, ResourceError
from ..config import Limits
from .cache import build_entry
from .guard import refuse_if_no_compile
from .moduleshape import refuse_in_wasmtime
from .wasi_linker import wasi_linker
from .wasmbinary import (PAGE, SEC_CODE, SEC_DATA, SEC_DATACOUNT, SEC_EXPORT, SEC_GLOBAL,
                         SEC_MEMORY, SEC_START, assemble, const_expr_end, enc_s, enc_u,
                         initial_memory, leb_u, only_function_names, parse_globals, sections)
from .wasmbinary import encode_exports as _encode_exports
from .wasmbinary import parse_exports as _exports

FORMAT = "3"  # 3: custom sections but function names dropped
STARTUP_TIMEOUT = 60.0  # seconds a start-up may run when the sandbox sets no timeout
_GAP = 64  # zero bytes that split a data segment


def _check_active_data(body: bytes) -> None:
    count, pos = leb_u(body, 0)
    for _ in range(count):
        flags, pos = leb_u(body, pos)
        if flags != 0:
            raise BuildError("pre-initialization needs active data segments in memory 0")
        pos = const_expr_end(body, pos)
        size, pos = leb_u(body, pos)
        pos += size


def _data_section(memory: bytes) -> tuple[bytes, int]:
    """Active segments covering the non-zero runs of ``memory``."""
    segments: list[tuple[int, bytes]] = []
    i, n = 0, len(memory)
    stripped = memory.rstrip(b"\0")
    while i < len(stripped):
        while i < len(stripped) and stripped[i] == 0:
            i += 1
        start = i
        zeros = 0
        while i < len(stripped) and zeros < _GAP:
            zeros = zeros + 1 if stripped[i] == 0 else 0
            i += 1
        end = i - zeros if zeros >= _GAP else i
        segments.append((start, stripped[start:end]))
    assert n >= len(stripped)
    body = enc_u(len(segments)) + b"".join(
        b"\0\x41" + enc_s(off if off < 1 << 31 else off - (1 << 32)) + b"\x0b" +
        enc_u(len(data)) + data for off, data in segments)
    return body, len(segments)


def _memory_section(body: bytes, pages: int) -> bytes:
    count, pos = leb_u(body, 0)
    if count != 1:
        raise BuildError("pre-initialization needs exactly one memory")
    flags = body[pos]
    _, after = leb_u(body, pos + 1)
    rest = body[after:]
    return enc_u(1) + bytes([flags]) + enc_u(pages) + rest


def _const(valtype: int, value: int | float) -> bytes:
    import struct
    if valtype == 0x7F:
        return b"\x41" + enc_s(int(value)) + b"\x0b"
    if valtype == 0x7E:
        return b"\x42" + enc_s(int(value)) + b"\x0b"
    if valtype == 0x7D:
        return b"\x43" + struct.pack("<f", float(value)) + b"\x0b"
    return b"\x44" + struct.pack("<d", float(value)) + b"\x0b"


class _LimitDependent(Exception):
    """The start-up came near the memory limit: its result may depend on it."""


def _run_startup(instrumented: bytes, probed: list[int], limits: Limits, name: str
                 ) -> tuple[bytes, dict[int, int | float]] | None:
    """Run the start-up of ``instrumented`` under ``limits``, with no capabilities:
    the memory image and the values of the ``probed`` globals (None if the module
    needs more than WASI: its missing imports are for the backend to report)."""
    config = wasmtime.Config()
    refuse_in_wasmtime(config)
    config.epoch_interruption = True
    config.consume_fuel = limits.fuel is not None
    engine = wasmtime.Engine(config)
    module = wasmtime.Module(engine, instrumented)
    if any(i.module != "wasi_snapshot_preview1" for i in module.imports):
        return None
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    store.set_limits(memory_size=limits.memory_bytes, table_elements=limits.table_elements,
                     instances=1, tables=1, memories=1)
    if limits.fuel is not None:
        store.set_fuel(limits.fuel)
    store.set_epoch_deadline(1)
    timeout = limits.timeout or STARTUP_TIMEOUT
    alarm = threading.Timer(timeout, engine.increment_epoch)
    alarm.daemon = True
    alarm.start()
    where = "the library's start-up (pre-initialization)"  # the Sandbox names the library
    try:
        instance = wasi_linker(engine, clock=False, random=False).instantiate(store, module)
        found = instance.exports(store)
        init, memory = found["_initialize"], found["memory"]
        assert isinstance(init, wasmtime.Func) and isinstance(memory, wasmtime.Memory)
        init(store)
    except wasmtime.Trap as exc:
        if exc.trap_code is wasmtime.TrapCode.INTERRUPT:
            raise ResourceError(f"{where} ran past its time limit of {timeout} s") from None
        if exc.trap_code is wasmtime.TrapCode.OUT_OF_FUEL:
            raise ResourceError(f"{where} ran out of fuel ({limits.fuel})") from None
        raise BuildError(f"{name}: {where} failed", str(exc)) from None
    except wasmtime.WasmtimeError as exc:  # instantiation refused: tables or memory
        raise ResourceError(f"{where} does not fit the limits: {exc}") from None
    finally:
        alarm.cancel()
    size = memory.data_len(store)
    if 2 * size > limits.memory_bytes:  # grows near the limit may have been refused
        raise _LimitDependent()
    return bytes(memory.read(store, 0, size)), {
        index: _global_value(found[_probe(index)], store) for index in probed}


def _probe(index: int) -> str:
    """The export name under which global ``index`` is read back."""
    return f"__sandboxlib_global{index}"


def _global_value(g: object, store: wasmtime.Store) -> int | float:
    assert isinstance(g, wasmtime.Global)
    value = g.value(store)
    assert isinstance(value, (int, float))
    return value


def preinitialize(wasm: bytes, limits: Limits = Limits(), name: str = "module") -> bytes:
    """The module with its start-up already run (see the module docstring)."""
    parts = sections(wasm)
    by_id = {sid: body for sid, body in parts}
    exports = _exports(by_id.get(SEC_EXPORT, b"\0"))
    if not any(n == "_initialize" for n, _, _ in exports) or SEC_START in by_id:
        return wasm
    globals_ = parse_globals(by_id.get(SEC_GLOBAL, b"\0"))
    if SEC_DATA in by_id:
        _check_active_data(by_id[SEC_DATA])
    # 1. instrument: export every mutable global so its value can be read back
    probes = [(_probe(i), 3, i) for i, g in enumerate(globals_) if g.mutable]
    instrumented = assemble([(sid, _encode_exports(exports + probes) if sid == SEC_EXPORT
                               else body) for sid, body in parts])
    # 2. run the start-up (a module importing more than WASI is left as it is)
    ran = _run_startup(instrumented, [i for _, _, i in probes], limits, name)
    if ran is None:
        return wasm
    image, values = ran
    # 3. write the initialized module
    new_globals = [_const(g.valtype, values[i]) if i in values else g.init
                   for i, g in enumerate(globals_)]
    data, segments = _data_section(image)
    out: list[tuple[int, bytes]] = []
    for sid, body in parts:
        if sid == SEC_GLOBAL:
            body = enc_u(len(globals_)) + b"".join(
                bytes([g.valtype, 1 if g.mutable else 0]) + init_
                for g, init_ in zip(globals_, new_globals))
        elif sid == SEC_EXPORT:
            body = _encode_exports([e for e in exports if e[0] != "_initialize"])
        elif sid == SEC_MEMORY:
            body = _memory_section(body, len(image) // PAGE)
        elif sid == SEC_DATACOUNT:
            body = enc_u(segments)
        elif sid == SEC_DATA:
            body = data
        out.append((sid, body))
        if sid == SEC_CODE and SEC_DATA not in by_id:
            out.append((SEC_DATA, data))  # the data section follows the code section
    return only_function_names(assemble(out))  # data segment names would name old ones


# Beside a module a wheel ships (``ship_image``): its image, and the key it was made for.
SHIPPED_IMAGE = "module.preinit.wasm"
SHIPPED_KEY = "module.preinit.key"


def _key(wasm: bytes) -> str:
    return hashlib.sha256(FORMAT.encode() + b"\0" + wasm).hexdigest()[:32]


def _recorded(path: Path) -> str | None:
    try:
        return path.with_name(SHIPPED_KEY).read_text().strip()
    except OSError:
        return None


def ship_image(path: Path, name: str) -> Path | None:
    """Pre-initialize the module at ``path`` as its first sandbox would (default limits)
    and place the image beside it, where ``preinitialized`` takes it without compiling;
    None if it makes no image."""
    image, _ = preinitialized(path, Limits(), name)
    if image == path:
        return None
    shipped = path.with_name(SHIPPED_IMAGE)
    shipped.write_bytes(image.read_bytes())
    path.with_name(SHIPPED_KEY).write_text(_key(path.read_bytes()) + "\n")
    return shipped


def preinitialized(path: Path, limits: Limits, name: str) -> tuple[Path, int]:
    """``path`` pre-initialized under ``limits`` (see the module docstring), cached
    by content, and the memory its sandboxes start with; ``(path, 0)`` itself if the
    start-up came near the memory limit (not cached: a later process may have room).
    An image shipped beside ``path`` for it (``ship_image``) is taken as it is."""
    wasm = path.read_bytes()
    key = _key(wasm)
    shipped = path.with_name(SHIPPED_IMAGE)
    if shipped.is_file() and _recorded(path) == key:
        return shipped, initial_memory(shipped.read_bytes())
    refuse_if_no_compile(f"pre-initializing {name} (wasmtime compiles it)")

    def build(tmp: Path) -> None:
        (tmp / "module.wasm").write_bytes(preinitialize(wasm, limits, name))
    try:
        final = build_entry("preinit", key, "module.wasm", build) / "module.wasm"
    except _LimitDependent:
        return path, 0
    return final, initial_memory(final.read_bytes())
