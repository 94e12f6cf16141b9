"""The event log's record format, as ``shim/event_log.h`` writes it: the fields per
record (long longs: kind, line, column, byte index, string count, extra), the kinds,
and for each kind other than start, end and text its handler and arguments."""

from __future__ import annotations

FIELDS = 6
EV_START, EV_END, EV_CHARS = 1, 2, 3
# other kinds -> (handler, number of string arguments (each may be NULL), int argument?)
LOGGED: dict[int, tuple[str, int, bool]] = {
    4: ("ProcessingInstructionHandler", 2, False),
    5: ("CommentHandler", 1, False),
    6: ("StartCdataSectionHandler", 0, False),
    7: ("EndCdataSectionHandler", 0, False),
    8: ("StartNamespaceDeclHandler", 2, False),
    9: ("EndNamespaceDeclHandler", 1, False),
    10: ("XmlDeclHandler", 2, True),
    11: ("StartDoctypeDeclHandler", 3, True),
    12: ("EndDoctypeDeclHandler", 0, False),
    13: ("SkippedEntityHandler", 1, True),
}
