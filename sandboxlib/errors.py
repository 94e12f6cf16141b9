"""The exceptions a user of sandboxlib can see; all derive from SandboxError."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of every error sandboxlib raises."""


class BuildError(SandboxError):
    """Compiling a library (to wasm, or natively) failed; carries the compiler's output."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(f"{message}\n{output}".rstrip())
        self.output = output


class ArgumentError(SandboxError, TypeError):
    """A value passed into the sandbox does not fit the C type it is passed as."""


class TaintError(SandboxError):
    """A tainted value failed verification, or was used as if it were trusted."""


class BoundsError(TaintError):
    """A pointer or length from the sandbox reaches outside the sandbox's memory."""


class TrapError(SandboxError):
    """The sandboxed code trapped; the sandbox is poisoned and cannot be used again."""

    def __init__(self, message: str, kind: str = "trap") -> None:
        super().__init__(message)
        self.kind = kind


class ResourceError(SandboxError):
    """A sandbox limit (memory, CPU) was reached."""


class PoisonedError(SandboxError):
    """The sandbox was used after a trap or a failed callback left it untrustworthy."""


class CapabilityError(SandboxError):
    """The module needs a capability (an import) that was not granted or is unknown."""
