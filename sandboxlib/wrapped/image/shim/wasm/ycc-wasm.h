/* jdcolor.c's YCbCr -> RGB arithmetic in wasm SIMD128, for the conversion alone
   (jdcolor-wasm.c) and the one fused with the upsampling (jdsample-wasm.c). jdcolor.c's
   tables hold, for x = Cb or Cr - 128, round(1.402 x) and so on with 16 fractional bits;
   each is computed here as a whole multiple of x plus a product of 16-bit constants
   (i32x4.dot_i16x8_s on the pair (Cb, Cr)), the same integers:
     R = Y + Cr + ((26345 Cr + 2^15) >> 16)                  (91881 = 2^16 + 26345)
     G = Y - Cr + ((-22554 Cb + 18734 Cr + 2^15) >> 16)     (-46802 = -2^16 + 18734)
     B = Y + 2 Cb + ((-14942 Cb + 2^15) >> 16)              (116130 = 2^17 - 14942)
   then clamped to 0-255 as jdcolor.c's range_limit does. */
#ifndef YCC_WASM_H
#define YCC_WASM_H
#include <stdint.h>
#include <wasm_simd128.h>

#include "jinclude.h"
#include "jpeglib.h"

/* (dot(pairs, (a, b)) + 2^15) >> 16 for the four pairs of each half, as eight i16 */
static inline v128_t scaled(v128_t lo, v128_t hi, int16_t a, int16_t b) {
  const v128_t k = wasm_i16x8_make(a, b, a, b, a, b, a, b), half = wasm_i32x4_splat(1 << 15);
  return wasm_i16x8_narrow_i32x4(
      wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_dot_i16x8(lo, k), half), 16),
      wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_dot_i16x8(hi, k), half), 16));
}

/* R, G and B of eight pixels (i16, unclamped) from their Y, Cb - 128 and Cr - 128 */
static inline void rgb8(v128_t y, v128_t cb, v128_t cr, v128_t out[3]) {
  v128_t lo = wasm_i16x8_shuffle(cb, cr, 0, 8, 1, 9, 2, 10, 3, 11);
  v128_t hi = wasm_i16x8_shuffle(cb, cr, 4, 12, 5, 13, 6, 14, 7, 15);
  out[0] = wasm_i16x8_add(wasm_i16x8_add(y, cr), scaled(lo, hi, 0, 26345));
  out[1] = wasm_i16x8_add(wasm_i16x8_sub(y, cr), scaled(lo, hi, -22554, 18734));
  out[2] = wasm_i16x8_add(wasm_i16x8_add(y, wasm_i16x8_add(cb, cb)), scaled(lo, hi, -14942, 0));
}

/* Sixteen pixels' R, G and B (u8) from their Y (u8) and Cb - 128 and Cr - 128 (i16, eight
   pixels a vector) */
static inline void ycc16(v128_t y, const v128_t cb[2], const v128_t cr[2], v128_t rgb[3]) {
  v128_t lo[3], hi[3];
  rgb8(wasm_u16x8_extend_low_u8x16(y), cb[0], cr[0], lo);
  rgb8(wasm_u16x8_extend_high_u8x16(y), cb[1], cr[1], hi);
  for (int i = 0; i < 3; i++)
    rgb[i] = wasm_u8x16_narrow_i16x8(lo[i], hi[i]);
}

/* R G (low or high eight pixels) and B with `fill` (0 or 0xff), each pair as a u16 */
#define PAIRS(a, b, half)                                                                \
  wasm_i8x16_shuffle(a, b, 8 * (half), 16 + 8 * (half), 8 * (half) + 1, 17 + 8 * (half), \
                     8 * (half) + 2, 18 + 8 * (half), 8 * (half) + 3, 19 + 8 * (half),   \
                     8 * (half) + 4, 20 + 8 * (half), 8 * (half) + 5, 21 + 8 * (half),   \
                     8 * (half) + 6, 22 + 8 * (half), 8 * (half) + 7, 23 + 8 * (half))

/* Sixteen pixels as 64 bytes of RGBX (X = 0xff, as libjpeg's C writes it). */
static inline void store_rgbx(const v128_t rgb[3], JSAMPLE* out) {
  const v128_t ones = wasm_i8x16_splat(-1);
  v128_t rg_lo = PAIRS(rgb[0], rgb[1], 0), rg_hi = PAIRS(rgb[0], rgb[1], 1);
  v128_t bx_lo = PAIRS(rgb[2], ones, 0), bx_hi = PAIRS(rgb[2], ones, 1);
  wasm_v128_store(out, wasm_i16x8_shuffle(rg_lo, bx_lo, 0, 8, 1, 9, 2, 10, 3, 11));
  wasm_v128_store(out + 16, wasm_i16x8_shuffle(rg_lo, bx_lo, 4, 12, 5, 13, 6, 14, 7, 15));
  wasm_v128_store(out + 32, wasm_i16x8_shuffle(rg_hi, bx_hi, 0, 8, 1, 9, 2, 10, 3, 11));
  wasm_v128_store(out + 48, wasm_i16x8_shuffle(rg_hi, bx_hi, 4, 12, 5, 13, 6, 14, 7, 15));
}

#endif
