"""Where the hand-written C of the wasm2c backend is, and what Python needs of it.

``csrc/`` holds it, compiled with every translated module:

- ``traps.h``: our trap codes, beside wasm-rt's; ``TRAPS`` is read from it.
- ``sbx.h``: the instance layout (the wasm2c module struct followed by our state) and
  the declarations of the hooks the translated module calls.
- ``hooks.h``: included into the translated module where wasm2c's macros end
  (``translate``): stack, call_indirect and fuel checks, memory and tables allocated
  by us.
- ``exceptions.c``: wasm-rt's exception API (setjmp/longjmp), a throw never leaving
  the call that made it; ``runtime.c`` includes it for a module with exceptions.
- ``runtime.c``: the shim's fixed part (``shim`` includes it before the part it
  generates per module): trap frames, call entry and exit, the instance's lifetime,
  memory and table allocation.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

CSRC = Path(__file__).parent / "csrc"
MODULE_NAME = "m"  # wasm2c -n: every generated symbol is w2c_m_* / wasm2c_m_*, as csrc/ names them

DEFINES = (
    "WASM_RT_MEMCHECK_BOUNDS_CHECK=1",
    "WASM_RT_USE_MMAP=1",  # memory never moves: generated code keeps its base in a register
    # our own stack check replaces wasm-rt's call-depth counter
    "WASM_RT_NONCONFORMING_UNCHECKED_STACK_EXHAUSTION=1",
    "WASM_RT_TRAP_HANDLER=sbx_trap",
)
# No floating-point contraction: a wasm f32/f64 multiply then add rounds twice, and an
# x86_64_v3 build (toolchain.cpu) has FMA, which clang would otherwise fuse them into.
# No debug information (Python's own flags ask for it): the symbols stay, and a wheel
# ships two levels of each drop-in's extension (JPEG's: 4.7 MB with it, 0.56 MB without).
# Non-trivial loop unswitching (clang's -O3 has it, with a default cost threshold that
# leaves these loops alone): a loop whose bounds check is loop-invariant but sits in some
# of its paths (a `switch` arm's access through a parameter) is versioned on that check,
# made once before the loop; the check itself is the same compare. Instructions (README,
# issue 30): pcre2 -2.1%, expat -1.8%, zlib -3.2%; code 5-10% larger.
CFLAGS = ("-fvisibility=hidden", "-Wno-unused-function", "-Wno-unused-variable",
          "-ffp-contract=off", "-g0", "-mllvm", "-enable-nontrivial-unswitch",
          "-mllvm", "-unswitch-threshold=2000")

# Segue (wasm2c's WASM_RT_ALLOW_SEGUE), in x86_64_v3 builds (toolchain.cpu: the machine
# lets user code set the GS segment's base): the module's code reaches its memory through
# GS, whose base is the memory's start, instead of a base pointer it keeps in a register
# or, short of them, spills. runtime.c sets GS where the module's code may start or
# resume with another base there, and keeps wasm2c's record of it (FREE_SEGMENT) true.
# wasm2c ÷ native, six corpus runs each (README, issue 30): expat 1.55x -> 1.45x, Lua
# 1.22x -> 1.15x; zlib, xz, giflib 2-4% slower; geometric mean 1.22x -> 1.20x.
SEGUE_DEFINES = ("WASM_RT_ALLOW_SEGUE=1", "WASM_RT_SEGUE_FREE_SEGMENT=1")
SEGUE_CFLAGS = ("-mfsgsbase",)

_TRAP = re.compile(r"^\s*(SBX_TRAP_\w+) = (0x[0-9A-Fa-f]+),", re.MULTILINE)


def read_traps(header: str) -> dict[str, int]:
    """The trap codes ``traps.h`` defines, by name; ValueError if it names one in
    another form than ``SBX_TRAP_<name> = 0x<hex>,`` on a line of its own."""
    traps = {m[1]: int(m[2], 16) for m in _TRAP.finditer(header)}
    unread = set(re.findall(r"\bSBX_TRAP_\w+", header)) - set(traps)
    if not traps or unread:
        raise ValueError(f"traps.h: cannot read the trap codes {sorted(unread)}")
    return traps


TRAPS = read_traps((CSRC / "traps.h").read_text())


# the headers csrc/ includes from sandboxlib/
SHARED_HEADERS = tuple(CSRC.parents[2] / name for name in ("_boundary.h", "_slab.h", "_clock.h"))


def fingerprint() -> str:
    """A hash of every file in ``csrc/`` and of the headers it includes from sandboxlib/:
    part of the key of each build compiling them."""
    h = hashlib.sha256()
    for path in [*sorted([*CSRC.glob("*.c"), *CSRC.glob("*.h")]), *SHARED_HEADERS]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
