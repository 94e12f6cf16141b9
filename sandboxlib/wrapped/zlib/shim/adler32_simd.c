/* zlib's adler32.c; in the wasm build its adler32_z and adler32 are renamed (zlib_adler32_z,
   zlib_adler32) and replaced by ones that sum 32 bytes at a time with wasm SIMD128, for
   inputs of 32 bytes or more (shorter ones, and a NULL buf, still go to zlib's code). Per
   block: the sum of its bytes and the sum of its bytes weighted 32..1, in 32-bit lanes,
   and the running sum of the earlier blocks' sums (what the first byte sum contributes to
   every later position); a chunk of at most NMAX bytes keeps every total below 2^32, as in
   zlib, and is reduced mod BASE after it. For 16 bytes or more zlib's result is the exact
   sums reduced mod BASE, so the results are the same bits. Natively zlib's C alone. */
#ifndef __wasm_simd128__
#include "adler32.c"
#else
#define adler32_z zlib_adler32_z
#define adler32 zlib_adler32
#include "adler32.c"
#undef adler32_z
#undef adler32

#include <stdint.h>
#include <wasm_simd128.h>

#define BLOCK 32
/* Bytes summed in blocks before a reduction, leaving room for a tail of under BLOCK. */
#define CHUNK ((NMAX - BLOCK) / BLOCK * BLOCK)

uLong ZEXPORT adler32_z(uLong adler, const Bytef* buf, z_size_t len);
uLong ZEXPORT adler32(uLong adler, const Bytef* buf, uInt len);

/* The sum of a vector's four 32-bit lanes (mod 2^32). */
static uint32_t lanes_sum(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
         wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

uLong ZEXPORT adler32_z(uLong adler, const Bytef* buf, z_size_t len) {
  if (buf == Z_NULL || len < BLOCK) {
    return zlib_adler32_z(adler, buf, len);
  }
  uint32_t sum1 = (adler & 0xffff) % BASE;
  uint32_t sum2 = ((adler >> 16) & 0xffff) % BASE;
  const v128_t ones = wasm_i16x8_splat(1);
  const v128_t w0 = wasm_i16x8_make(32, 31, 30, 29, 28, 27, 26, 25);
  const v128_t w1 = wasm_i16x8_make(24, 23, 22, 21, 20, 19, 18, 17);
  const v128_t w2 = wasm_i16x8_make(16, 15, 14, 13, 12, 11, 10, 9);
  const v128_t w3 = wasm_i16x8_make(8, 7, 6, 5, 4, 3, 2, 1);
  while (len >= BLOCK) {
    z_size_t n = len < CHUNK ? len / BLOCK * BLOCK : CHUNK;
    len -= n;
    sum2 += (uint32_t)n * sum1;            /* sum1 so far reaches every byte of the chunk */
    v128_t bytes = wasm_i32x4_splat(0);    /* the chunk's bytes summed */
    v128_t earlier = wasm_i32x4_splat(0);  /* per block, the byte sum of those before it */
    v128_t weighted = wasm_i32x4_splat(0); /* per block, its bytes weighted 32..1 */
    for (const Bytef* end = buf + n; buf != end; buf += BLOCK) {
      v128_t a = wasm_v128_load(buf);
      v128_t b = wasm_v128_load(buf + 16);
      v128_t a0 = wasm_u16x8_extend_low_u8x16(a), a1 = wasm_u16x8_extend_high_u8x16(a);
      v128_t b0 = wasm_u16x8_extend_low_u8x16(b), b1 = wasm_u16x8_extend_high_u8x16(b);
      earlier = wasm_i32x4_add(earlier, bytes);
      v128_t pairs = wasm_i16x8_add(wasm_i16x8_add(a0, a1), wasm_i16x8_add(b0, b1));
      bytes = wasm_i32x4_add(bytes, wasm_i32x4_dot_i16x8(pairs, ones));
      v128_t low = wasm_i32x4_add(wasm_i32x4_dot_i16x8(a0, w0), wasm_i32x4_dot_i16x8(a1, w1));
      v128_t high = wasm_i32x4_add(wasm_i32x4_dot_i16x8(b0, w2), wasm_i32x4_dot_i16x8(b1, w3));
      weighted = wasm_i32x4_add(weighted, wasm_i32x4_add(low, high));
    }
    sum2 += BLOCK * lanes_sum(earlier) + lanes_sum(weighted);
    sum1 += lanes_sum(bytes);
    if (len < BLOCK) {
      for (; len; len--) {
        sum1 += *buf++;
        sum2 += sum1;
      }
    }
    sum1 %= BASE;
    sum2 %= BASE;
  }
  return sum1 | (sum2 << 16);
}

uLong ZEXPORT adler32(uLong adler, const Bytef* buf, uInt len) {
  return adler32_z(adler, buf, len);
}
#endif
