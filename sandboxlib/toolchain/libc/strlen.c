/* sandboxlib: strlen for every wasm module built with SIMD, 16 bytes per step. zig's
   wasm libc's is a loop over single bytes, which the host compiler inlines where wasm2c's
   C calls it (expat's names, jansson's copy of its whole output). It reads the 16-byte
   aligned blocks from the one holding the first byte to the one holding the NUL, the
   bytes before `s` ignored: an aligned block never crosses a 64 KiB page, so it is in
   the memory whenever one of its bytes is. */
#ifdef __wasm_simd128__
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

/* Bit i set where the aligned block at `block` holds a NUL at i. */
static uint32_t nuls(const unsigned char* block) {
  return wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(block), wasm_i8x16_splat(0)));
}

size_t strlen(const char* s) {
  const unsigned char* at = (const unsigned char*)s;
  const size_t skew = (uintptr_t)at & 15;
  uint32_t found = nuls(at - skew) >> skew; /* bit i: at[i] */
  if (found == 0) {
    at += 16 - skew;
    while ((found = nuls(at)) == 0)
      at += 16;
  }
  return (size_t)(at - (const unsigned char*)s) + (size_t)__builtin_ctz(found);
}
#endif
