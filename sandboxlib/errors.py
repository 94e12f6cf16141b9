"""The exceptions a user of sandboxlib can see; all derive from SandboxError."""

from __future__ import annotations

from enum import Enum


class SandboxError(Exception):
    """Base of every error sandboxlib raises."""


class BuildError(SandboxError):
    """Compiling a library (to wasm, or natively) failed; carries the compiler's output."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(f"{message}\n{output}".rstrip())
        self.output = output


class UnknownBackendError(SandboxError, ValueError):
    """A backend name that is none of sandboxlib's (the message names them)."""


class ArgumentError(SandboxError, TypeError):
    """A value passed into the sandbox does not fit the C type it is passed as."""


class TaintError(SandboxError):
    """A tainted value failed verification, or was used as if it were trusted."""


class BoundsError(TaintError):
    """A pointer or length from the sandbox reaches outside the sandbox's memory."""


class TrapKind(str, Enum):
    """Why sandboxed code trapped, named the same on every backend (a ``str``, so
    ``exc.kind == "unreachable"`` reads naturally)."""

    OUT_OF_BOUNDS = "out-of-bounds memory access"
    MISALIGNED = "misaligned memory access"
    TABLE_OUT_OF_BOUNDS = "out-of-bounds table access"
    INDIRECT_CALL_TO_NULL = "indirect call to null"
    INDIRECT_CALL_TYPE = "indirect call type mismatch"
    INTEGER_OVERFLOW = "integer overflow"
    DIVISION_BY_ZERO = "integer division by zero"
    INVALID_CONVERSION = "invalid conversion to integer"
    UNREACHABLE = "unreachable"
    STACK_OVERFLOW = "stack overflow"
    NULL_REFERENCE = "null reference"
    UNCAUGHT_EXCEPTION = "uncaught exception"
    UNREGISTERED_CALLBACK = "unregistered callback"
    EXIT = "exit"
    HOST = "host"  # a host function failed without an exception to re-raise
    OTHER = "trap"

    def __str__(self) -> str:
        return self.value


class TrapError(SandboxError):
    """The sandboxed code trapped; the sandbox is poisoned and cannot be used again."""

    def __init__(self, message: str, kind: TrapKind = TrapKind.OTHER) -> None:
        super().__init__(message)
        self.kind = kind


class ResourceError(SandboxError):
    """A sandbox limit (memory, CPU) was reached."""


class LimitExceeded(SandboxError):
    """A drop-in's output guard (``max_output``) stopped an operation; unlike a
    ``ResourceError`` it does not poison the sandbox."""


class Interrupted(SandboxError):
    """A running call was stopped: by ``Sandbox.interrupt()``, or by a signal whose
    handler raised nothing. The sandbox is poisoned (its state is unknown)."""


class PoisonedError(SandboxError):
    """The sandbox was used after a trap or a failed callback left it untrustworthy."""


class ClosedError(PoisonedError, ValueError):
    """The sandbox (or proxy, or object over it) was used after ``close()``: a
    ``ValueError``, as for a closed file."""


class CapabilityError(SandboxError):
    """The module needs a capability (an import) that was not granted or is unknown."""


class SandboxlibWarning(UserWarning):
    """The base of sandboxlib's warnings (what a ``warnings`` filter can select)."""


class GeneratorWarning(SandboxlibWarning):
    """The code generator renamed or left out something of the headers (a skipped
    declaration, a C name kept apart, a declared function the sources do not define)."""
