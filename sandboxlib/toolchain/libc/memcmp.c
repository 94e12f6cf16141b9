/* sandboxlib: memcmp for every wasm module built with SIMD, 16 bytes per step (zig's
   wasm libc's is a loop over single bytes, which the host compiler inlines where wasm2c's
   C calls it: expat compares each end tag's name with its start tag's). It reads only the
   n bytes of each span: 16 at a time, the last 16 again where n is no multiple of 16,
   two overlapping words below 16. Its result is zig's: the difference of the first two
   bytes that differ, as unsigned chars. */
#ifdef __wasm_simd128__
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

static int differ_at(const unsigned char* a, const unsigned char* b, size_t i) {
  return (int)a[i] - (int)b[i];
}

/* Bit i set where the 16 bytes at a and b differ at i. */
static uint32_t differing(const unsigned char* a, const unsigned char* b) {
  return wasm_i8x16_bitmask(wasm_v128_not(wasm_i8x16_eq(wasm_v128_load(a), wasm_v128_load(b))));
}

/* The first difference of the 16 bytes at a and b, or 0 if they are the same. */
static int compare16(const unsigned char* a, const unsigned char* b) {
  const uint32_t bits = differing(a, b);
  return bits ? differ_at(a, b, (size_t)__builtin_ctz(bits)) : 0;
}

static uint64_t word8(const unsigned char* p) {
  uint64_t w;
  __builtin_memcpy(&w, p, 8);
  return w;
}

static uint32_t word4(const unsigned char* p) {
  uint32_t w;
  __builtin_memcpy(&w, p, 4);
  return w;
}

int memcmp(const void* left, const void* right, size_t n) {
  const unsigned char* a = left;
  const unsigned char* b = right;
  if (n >= 16) {
    for (; n > 16; a += 16, b += 16, n -= 16) {
      const int d = compare16(a, b);
      if (d)
        return d;
    }
    return compare16(a + n - 16, b + n - 16); /* the last 16, some compared equal already */
  }
  if (n >= 8) { /* the first 8 and the last 8 (little-endian: the lowest bit set is first) */
    uint64_t x = word8(a) ^ word8(b);
    if (x)
      return differ_at(a, b, (size_t)__builtin_ctzll(x) / 8);
    x = word8(a + n - 8) ^ word8(b + n - 8);
    return x ? differ_at(a + n - 8, b + n - 8, (size_t)__builtin_ctzll(x) / 8) : 0;
  }
  if (n >= 4) {
    uint32_t x = word4(a) ^ word4(b);
    if (x)
      return differ_at(a, b, (size_t)__builtin_ctz(x) / 8);
    x = word4(a + n - 4) ^ word4(b + n - 4);
    return x ? differ_at(a + n - 4, b + n - 4, (size_t)__builtin_ctz(x) / 8) : 0;
  }
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i])
      return differ_at(a, b, i);
  return 0;
}
#endif
