/* Probes of the wasm libc's functions that sandboxlib/toolchain/libc/ replaces:
   tests/test_wasm_libc.py compares each with Python's own on every backend. */
#include <stddef.h>

/* memchr(s, c, n)'s result as an index into s, or -1 if it found nothing. */
long probe_memchr(const void* s, int c, size_t n);

/* strchr(s, c)'s result as an index into s, or -1 if it found nothing. */
long probe_strchr(const void* s, int c);

/* strlen(s). */
size_t probe_strlen(const void* s);

/* strspn(s, accept). */
size_t probe_strspn(const void* s, const void* accept);

/* memcmp(a, b, n). */
int probe_memcmp(const void* a, const void* b, size_t n);

/* strcmp(a, b). */
int probe_strcmp(const void* a, const void* b);
