/* sandboxlib: strcmp for every wasm module built with SIMD, 16 bytes per step (zig's
   wasm libc's is a loop over single bytes; Lua compares each C string it interns with
   the one its cache holds). The two strings' alignments differ, so it loads 16 bytes
   from wherever each has got to, except where those 16 would cross a 64 KiB page: there
   it steps a byte, so that it never reads a page none of the strings' bytes is in (past
   the memory's end). Its result is zig's: -1, 0 or 1, comparing unsigned chars. */
#ifdef __wasm_simd128__
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define PAGE 65536u

static int order(unsigned char a, unsigned char b) {
  return (a > b) - (a < b);
}

/* Whether 16 bytes from p reach into the next 64 KiB page. */
static int near_page_end(const unsigned char* p) {
  return ((uintptr_t)p & (PAGE - 1)) > PAGE - 16;
}

int strcmp(const char* left, const char* right) {
  const unsigned char* a = (const unsigned char*)left;
  const unsigned char* b = (const unsigned char*)right;
  for (;;) {
    if (near_page_end(a) || near_page_end(b)) {
      if (*a != *b || *a == 0)
        return order(*a, *b);
      a++;
      b++;
      continue;
    }
    const v128_t x = wasm_v128_load(a);
    const uint32_t stop = wasm_i8x16_bitmask(wasm_v128_or(
        wasm_v128_not(wasm_i8x16_eq(x, wasm_v128_load(b))),
        wasm_i8x16_eq(x, wasm_i8x16_splat(0)))); /* bit i: a[i] != b[i] or a[i] is NUL */
    if (stop) {
      const size_t i = (size_t)__builtin_ctz(stop);
      return order(a[i], b[i]);
    }
    a += 16;
    b += 16;
  }
}
#endif
