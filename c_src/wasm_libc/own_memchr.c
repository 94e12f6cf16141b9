/* A library's own memchr, which a module keeps instead of sandboxlib's: it finds the
   last match, not the first, so that tests/test_wasm_libc.py tells which one ran. */
#include <stddef.h>

void* memchr(const void* s, int c, size_t n) {
  const unsigned char* p = s;
  while (n > 0)
    if (p[--n] == (unsigned char)c)
      return (void*)(p + n);
  return NULL;
}
