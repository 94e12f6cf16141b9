"""The exception a host function (a WASI call served in Python) raised while
sandboxed code ran: kept while the sandbox's frames unwind, re-raised by the call.
(Callbacks keep theirs in the sandbox's gate: see sandboxlib/_boundary.c.)"""

from __future__ import annotations


class HostCalls:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: BaseException | None = None

    def hold(self, exc: BaseException) -> None:
        """Keep ``exc`` until the sandboxed code has unwound to its caller."""
        self._pending = exc

    def take(self) -> BaseException | None:
        """The exception held since the last call, if any (and forget it)."""
        pending, self._pending = self._pending, None
        return pending
