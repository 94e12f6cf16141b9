/* sandboxlib: strchr for every wasm module built with SIMD, 16 bytes per step (zig's
   wasm libc's measures the string with a byte loop, then searches it with another). It
   reads the 16-byte aligned blocks from the one holding the first byte to the one holding
   the match or the NUL, the bytes before `s` ignored: an aligned block never crosses a
   64 KiB page, so it is in the memory whenever one of its bytes is. */
#ifdef __wasm_simd128__
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

/* Bit i set where the aligned block at `block` holds `needle`'s byte or a NUL at i. */
static uint32_t stops(const unsigned char* block, v128_t needle) {
  const v128_t bytes = wasm_v128_load(block);
  return wasm_i8x16_bitmask(
      wasm_v128_or(wasm_i8x16_eq(bytes, needle), wasm_i8x16_eq(bytes, wasm_i8x16_splat(0))));
}

char* strchr(const char* s, int c) {
  const v128_t needle = wasm_i8x16_splat((int8_t)c);
  const unsigned char* at = (const unsigned char*)s;
  const size_t skew = (uintptr_t)at & 15;
  uint32_t found = stops(at - skew, needle) >> skew; /* bit i: at[i] */
  if (found == 0) {
    at += 16 - skew;
    while ((found = stops(at, needle)) == 0)
      at += 16;
  }
  at += __builtin_ctz(found);
  return *at == (unsigned char)c ? (char*)at : NULL;
}
#endif
