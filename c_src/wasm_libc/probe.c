#include "probe.h"

#include <string.h>

long probe_memchr(const void* s, int c, size_t n) {
  const char* found = memchr(s, c, n);
  return found == NULL ? -1 : (long)(found - (const char*)s);
}

long probe_strchr(const void* s, int c) {
  const char* found = strchr(s, c);
  return found == NULL ? -1 : (long)(found - (const char*)s);
}

size_t probe_strlen(const void* s) {
  return strlen(s);
}

size_t probe_strspn(const void* s, const void* accept) {
  return strspn(s, accept);
}

int probe_memcmp(const void* a, const void* b, size_t n) {
  return memcmp(a, b, n);
}

int probe_strcmp(const void* a, const void* b) {
  return strcmp(a, b);
}
