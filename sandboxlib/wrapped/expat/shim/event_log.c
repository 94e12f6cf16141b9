/* See event_log.h. */
#include "event_log.h"

#include <stdlib.h>
#include <string.h>

#define RECORD_CAPACITY 4096    /* records per batch */
#define TEXT_CAPACITY (64 << 10) /* bytes of text per batch, more for a longer string */

struct SBX_EventLogStruct {
  XML_Parser parser;
  SBX_LogFlush flush;
  long long *records;
  unsigned int count;
  char *text;
  size_t text_len, text_cap;
  int failed;
};

static void
hand_over(struct SBX_EventLogStruct *log) {
  if (log->count) {
    log->flush(log->count, log->records, (unsigned int)log->text_len, log->text);
    log->count = 0;
    log->text_len = 0;
  }
}

/* A new record for an event with `text` bytes of strings, or NULL (failed). */
static long long *
record(struct SBX_EventLogStruct *log, int kind, size_t text) {
  if (log->failed)
    return NULL;
  if (log->count == RECORD_CAPACITY || log->text_cap - log->text_len < text)
    hand_over(log);
  if (log->text_cap < text) { /* one string longer than the buffer: grow it */
    char *bigger = (unsigned long long)text > 0xFFFFFFFFull ? NULL : realloc(log->text, text);
    if (bigger == NULL) {
      log->failed = 1;
      XML_StopParser(log->parser, XML_FALSE);
      return NULL;
    }
    log->text = bigger;
    log->text_cap = text;
  }
  long long *r = log->records + (size_t)log->count++ * SBX_LOG_FIELDS;
  r[0] = kind;
  r[1] = (long long)XML_GetCurrentLineNumber(log->parser);
  r[2] = (long long)XML_GetCurrentColumnNumber(log->parser);
  r[3] = (long long)XML_GetCurrentByteIndex(log->parser);
  r[4] = 0;
  r[5] = 0;
  return r;
}

static size_t
size_of(const XML_Char *s) {
  return s ? strlen(s) + 1 : 0;
}

/* Append string number `i` of record `r` (NULL: set its bit in the mask). */
static void
put(struct SBX_EventLogStruct *log, long long *r, int i, const XML_Char *s, size_t n) {
  if (s == NULL) {
    r[0] |= 1LL << (8 + i);
    return;
  }
  memcpy(log->text + log->text_len, s, n);
  log->text[log->text_len + n] = 0;
  log->text_len += n + 1;
  r[4] += 1;
}

#define LOG(user) ((struct SBX_EventLogStruct *)(user))

static void XMLCALL
on_start(void *user, const XML_Char *name, const XML_Char **atts) {
  size_t need = size_of(name), n = 0;
  for (; atts[n]; n++)
    need += size_of(atts[n]);
  long long *r = record(LOG(user), SBX_EV_START, need);
  if (r == NULL)
    return;
  put(LOG(user), r, 0, name, strlen(name));
  for (size_t i = 0; i < n; i++)
    put(LOG(user), r, 0, atts[i], strlen(atts[i]));
}

static void XMLCALL
on_end(void *user, const XML_Char *name) {
  long long *r = record(LOG(user), SBX_EV_END, size_of(name));
  if (r)
    put(LOG(user), r, 0, name, strlen(name));
}

static void XMLCALL
on_chars(void *user, const XML_Char *s, int len) {
  long long *r = record(LOG(user), SBX_EV_CHARS, (size_t)len + 1);
  if (r) {
    put(LOG(user), r, 0, s, (size_t)len);
    r[5] = len;
  }
}

/* An event with `arity` (at most three) strings, each may be NULL, and an int. */
static void
strings(void *user, int kind, int arity, const XML_Char *a, const XML_Char *b,
        const XML_Char *c, int extra) {
  const XML_Char *s[3] = {a, b, c};
  size_t need = 0;
  for (int i = 0; i < arity; i++)
    need += size_of(s[i]);
  long long *r = record(LOG(user), kind, need);
  if (r == NULL)
    return;
  for (int i = 0; i < arity; i++)
    put(LOG(user), r, i, s[i], s[i] ? strlen(s[i]) : 0);
  r[5] = extra;
}

static void XMLCALL
on_pi(void *user, const XML_Char *target, const XML_Char *data) {
  strings(user, SBX_EV_PI, 2, target, data, NULL, 0);
}

static void XMLCALL
on_comment(void *user, const XML_Char *data) {
  strings(user, SBX_EV_COMMENT, 1, data, NULL, NULL, 0);
}

static void XMLCALL
on_start_cdata(void *user) {
  strings(user, SBX_EV_START_CDATA, 0, NULL, NULL, NULL, 0);
}

static void XMLCALL
on_end_cdata(void *user) {
  strings(user, SBX_EV_END_CDATA, 0, NULL, NULL, NULL, 0);
}

static void XMLCALL
on_start_ns(void *user, const XML_Char *prefix, const XML_Char *uri) {
  strings(user, SBX_EV_START_NS, 2, prefix, uri, NULL, 0);
}

static void XMLCALL
on_end_ns(void *user, const XML_Char *prefix) {
  strings(user, SBX_EV_END_NS, 1, prefix, NULL, NULL, 0);
}

static void XMLCALL
on_xml_decl(void *user, const XML_Char *version, const XML_Char *encoding, int standalone) {
  strings(user, SBX_EV_XML_DECL, 2, version, encoding, NULL, standalone);
}

static void XMLCALL
on_start_doctype(void *user, const XML_Char *name, const XML_Char *sysid,
                 const XML_Char *pubid, int has_internal_subset) {
  strings(user, SBX_EV_START_DOCTYPE, 3, name, sysid, pubid, has_internal_subset);
}

static void XMLCALL
on_end_doctype(void *user) {
  strings(user, SBX_EV_END_DOCTYPE, 0, NULL, NULL, NULL, 0);
}

static void XMLCALL
on_skipped(void *user, const XML_Char *name, int is_parameter_entity) {
  strings(user, SBX_EV_SKIPPED, 1, name, NULL, NULL, is_parameter_entity);
}

SBX_EventLog
SBX_LogCreate(XML_Parser parser, SBX_LogFlush flush) {
  struct SBX_EventLogStruct *log = calloc(1, sizeof *log);
  if (log == NULL)
    return NULL;
  log->records = malloc(RECORD_CAPACITY * SBX_LOG_FIELDS * sizeof(long long));
  log->text = malloc(TEXT_CAPACITY);
  if (log->records == NULL || log->text == NULL) {
    free(log->records);
    free(log->text);
    free(log);
    return NULL;
  }
  log->parser = parser;
  log->flush = flush;
  log->text_cap = TEXT_CAPACITY;
  XML_SetUserData(parser, log);
  return log;
}

static void
set_handlers(XML_Parser p, int on) {
  XML_SetStartElementHandler(p, on ? on_start : NULL);
  XML_SetEndElementHandler(p, on ? on_end : NULL);
  XML_SetCharacterDataHandler(p, on ? on_chars : NULL);
  XML_SetProcessingInstructionHandler(p, on ? on_pi : NULL);
  XML_SetCommentHandler(p, on ? on_comment : NULL);
  XML_SetStartCdataSectionHandler(p, on ? on_start_cdata : NULL);
  XML_SetEndCdataSectionHandler(p, on ? on_end_cdata : NULL);
  XML_SetStartNamespaceDeclHandler(p, on ? on_start_ns : NULL);
  XML_SetEndNamespaceDeclHandler(p, on ? on_end_ns : NULL);
  XML_SetXmlDeclHandler(p, on ? on_xml_decl : NULL);
  XML_SetStartDoctypeDeclHandler(p, on ? on_start_doctype : NULL);
  XML_SetEndDoctypeDeclHandler(p, on ? on_end_doctype : NULL);
  XML_SetSkippedEntityHandler(p, on ? on_skipped : NULL);
}

void
SBX_LogAttach(SBX_EventLog log) {
  set_handlers(log->parser, 1);
}

void
SBX_LogDetach(SBX_EventLog log) {
  set_handlers(log->parser, 0);
}

enum XML_Status
SBX_LogParseBuffer(SBX_EventLog log, int len, int is_final) {
  enum XML_Status status = XML_ParseBuffer(log->parser, len, is_final);
  hand_over(log);
  return status;
}

enum XML_Status
SBX_LogParse(SBX_EventLog log, const char *s, int len, int is_final) {
  enum XML_Status status = XML_Parse(log->parser, s, len, is_final);
  hand_over(log);
  return status;
}

int
SBX_LogFailed(SBX_EventLog log) {
  return log->failed;
}
