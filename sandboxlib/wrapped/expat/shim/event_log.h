/* An event log for expat: in-sandbox handlers that record events into buffers in
 * sandbox memory, handed to the host one batch at a time (wrapped.expat's own
 * code, not part of expat). */
#ifndef SBX_EVENT_LOG_H
#define SBX_EVENT_LOG_H 1

#include "expat.h"

/* Each record is SBX_LOG_FIELDS long longs:
 *   kind | (null mask << 8)  the event (SBX_EV_*); bit i of the mask: string i is NULL
 *   line, column, byte index expat's position at the event
 *   strings                  how many non-NULL strings the event appended to the text
 *   extra                    an int argument (standalone, has_internal_subset,
 *                            is_parameter_entity), or the UTF-8 length of character data
 * The strings follow each other in the text, each terminated by a NUL. */
#define SBX_LOG_FIELDS 6

enum SBX_EventKind {
  SBX_EV_START = 1,        /* name, then attribute name, value, ... */
  SBX_EV_END = 2,          /* name */
  SBX_EV_CHARS = 3,        /* text */
  SBX_EV_PI = 4,           /* target, data */
  SBX_EV_COMMENT = 5,      /* data */
  SBX_EV_START_CDATA = 6,
  SBX_EV_END_CDATA = 7,
  SBX_EV_START_NS = 8,     /* prefix, uri */
  SBX_EV_END_NS = 9,       /* prefix */
  SBX_EV_XML_DECL = 10,    /* version, encoding; extra: standalone */
  SBX_EV_START_DOCTYPE = 11, /* name, system id, public id; extra: has_internal_subset */
  SBX_EV_END_DOCTYPE = 12,
  SBX_EV_SKIPPED = 13      /* entity name; extra: is_parameter_entity */
};

/* Called with a batch of records and their text when the log is full, and at the
 * end of SBX_LogParseBuffer and SBX_LogParse. (The count comes first: the native
 * backend's cffi cannot make a callback whose first parameter is a const pointer.) */
typedef void (*SBX_LogFlush)(unsigned int count, const long long *records,
                             unsigned int text_len, const char *text);

typedef struct SBX_EventLogStruct *SBX_EventLog;

/* A log for `parser` (NULL if out of memory); it becomes the parser's user data. */
SBX_EventLog SBX_LogCreate(XML_Parser parser, SBX_LogFlush flush);
/* Register the log's handlers for every event kind above on the parser. */
void SBX_LogAttach(SBX_EventLog log);
/* Unregister them. */
void SBX_LogDetach(SBX_EventLog log);
/* XML_ParseBuffer, then hand over what is left in the log. */
enum XML_Status SBX_LogParseBuffer(SBX_EventLog log, int len, int is_final);
/* XML_Parse, then hand over what is left in the log. */
enum XML_Status SBX_LogParse(SBX_EventLog log, const char *s, int len, int is_final);
/* Non-zero if the log could not grow its text buffer (the parse was stopped). */
int SBX_LogFailed(SBX_EventLog log);

#endif /* SBX_EVENT_LOG_H */
