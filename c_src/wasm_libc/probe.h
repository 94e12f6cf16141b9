/* Probes of the wasm libc's functions that sandboxlib/toolchain/libc/ replaces:
   tests/test_wasm_libc.py compares each with Python's own on every backend. */
#include <stddef.h>

/* memchr(s, c, n)'s result as an index into s, or -1 if it found nothing. */
long probe_memchr(const void* s, int c, size_t n);
