#include "probe.h"

#include <string.h>

long probe_memchr(const void* s, int c, size_t n) {
  const char* found = memchr(s, c, n);
  return found == NULL ? -1 : (long)(found - (const char*)s);
}
