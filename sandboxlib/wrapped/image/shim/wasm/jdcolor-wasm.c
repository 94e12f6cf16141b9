/* libjpeg-turbo's YCbCr -> RGB conversion (jdcolext.c's, to 3-byte RGB and to RGBX) in
   wasm SIMD128, under the names its Arm jsimd.c calls (shim/neon/jdcolor-neon.c renames
   libjpeg-turbo's Neon one). jdcolor.c's tables hold, for x = Cb or Cr - 128, round(1.402 x) and so
   on with 16 fractional bits; each is computed here as a whole multiple of x plus a product of
   16-bit constants (i32x4.dot_i16x8_s on the pair (Cb, Cr)), the same integers: R = Y + Cr +
   ((26345 Cr + 2^15) >> 16)                    (91881 = 2^16 + 26345) G = Y - Cr + ((-22554 Cb +
   18734 Cr + 2^15) >> 16)        (-46802 = -2^16 + 18734) B = Y + 2 Cb + ((-14942 Cb + 2^15) >> 16)
   (116130 = 2^17 - 14942) then clamped to 0-255 as jdcolor.c's range_limit does. */
#ifdef __wasm__
#include <stdint.h>
#include <string.h>
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

/* Four pixels R G B 0 (one per 32-bit lane) as 12 bytes R G B ..., then 4 zero bytes. */
static inline v128_t pack12(v128_t p) {
  const v128_t low = wasm_i64x2_splat(0xffffff), high = wasm_i64x2_splat(0xffffff000000);
  v128_t c = wasm_v128_or(wasm_v128_and(p, low), wasm_v128_and(wasm_u64x2_shr(p, 8), high));
  return wasm_i8x16_shuffle(c, wasm_i64x2_const(0, 0), 0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 16,
                            16, 16, 16);
}

/* Sixteen pixels' R, G and B (u8) from their Y, Cb and Cr. */
static inline void rgb16(const JSAMPLE* y, const JSAMPLE* cb, const JSAMPLE* cr, v128_t rgb[3]) {
  const v128_t center = wasm_i16x8_splat(CENTERJSAMPLE);
  v128_t vy = wasm_v128_load(y), vcb = wasm_v128_load(cb), vcr = wasm_v128_load(cr);
  v128_t lo[3], hi[3];
  rgb8(wasm_u16x8_extend_low_u8x16(vy), wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(vcb), center),
       wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(vcr), center), lo);
  rgb8(wasm_u16x8_extend_high_u8x16(vy), wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(vcb), center),
       wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(vcr), center), hi);
  for (int i = 0; i < 3; i++)
    rgb[i] = wasm_u8x16_narrow_i16x8(lo[i], hi[i]);
}

/* R G (low or high eight pixels) and B with `fill` (0 or 0xff), each pair as a u16 */
#define PAIRS(a, b, half)                                                                \
  wasm_i8x16_shuffle(a, b, 8 * (half), 16 + 8 * (half), 8 * (half) + 1, 17 + 8 * (half), \
                     8 * (half) + 2, 18 + 8 * (half), 8 * (half) + 3, 19 + 8 * (half),   \
                     8 * (half) + 4, 20 + 8 * (half), 8 * (half) + 5, 21 + 8 * (half),   \
                     8 * (half) + 6, 22 + 8 * (half), 8 * (half) + 7, 23 + 8 * (half))

/* Sixteen pixels as 48 bytes of RGB. */
static inline void store_rgb(const v128_t rgb[3], JSAMPLE* out) {
  const v128_t zero = wasm_i64x2_const(0, 0);
  v128_t rg_lo = PAIRS(rgb[0], rgb[1], 0), rg_hi = PAIRS(rgb[0], rgb[1], 1);
  v128_t b_lo = PAIRS(rgb[2], zero, 0), b_hi = PAIRS(rgb[2], zero, 1);
  v128_t q0 = pack12(wasm_i16x8_shuffle(rg_lo, b_lo, 0, 8, 1, 9, 2, 10, 3, 11));
  v128_t q1 = pack12(wasm_i16x8_shuffle(rg_lo, b_lo, 4, 12, 5, 13, 6, 14, 7, 15));
  v128_t q2 = pack12(wasm_i16x8_shuffle(rg_hi, b_hi, 0, 8, 1, 9, 2, 10, 3, 11));
  v128_t q3 = pack12(wasm_i16x8_shuffle(rg_hi, b_hi, 4, 12, 5, 13, 6, 14, 7, 15));
  wasm_v128_store(out,
                  wasm_i8x16_shuffle(q0, q1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19));
  wasm_v128_store(out + 16, wasm_i8x16_shuffle(q1, q2, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20,
                                               21, 22, 23));
  wasm_v128_store(out + 32, wasm_i8x16_shuffle(q2, q3, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23,
                                               24, 25, 26, 27));
}

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

/* The rows, `bytes` (3 or 4) a pixel written by `store` (inlined: one loop each). */
static inline void convert_rows(JDIMENSION out_width, JSAMPIMAGE input_buf, JDIMENSION input_row,
                                JSAMPARRAY output_buf, int num_rows, size_t bytes,
                                void (*store)(const v128_t[3], JSAMPLE*)) {
  for (; num_rows > 0; num_rows--, input_row++, output_buf++) {
    const JSAMPLE* y = input_buf[0][input_row];
    const JSAMPLE* cb = input_buf[1][input_row];
    const JSAMPLE* cr = input_buf[2][input_row];
    JSAMPLE* out = *output_buf;
    JDIMENSION col = 0;
    v128_t rgb[3];
    for (; col + 16 <= out_width; col += 16) {
      rgb16(y + col, cb + col, cr + col, rgb);
      store(rgb, out + bytes * col);
    }
    if (col < out_width) { /* the last pixels, through buffers of sixteen */
      JSAMPLE in[3][16] = {{0}}, pixels[64];
      size_t n = out_width - col;
      memcpy(in[0], y + col, n);
      memcpy(in[1], cb + col, n);
      memcpy(in[2], cr + col, n);
      rgb16(in[0], in[1], in[2], rgb);
      store(rgb, pixels);
      memcpy(out + bytes * col, pixels, bytes * n);
    }
  }
}

void jsimd_ycc_extrgb_convert_neon(JDIMENSION out_width, JSAMPIMAGE input_buf, JDIMENSION input_row,
                                   JSAMPARRAY output_buf, int num_rows) {
  convert_rows(out_width, input_buf, input_row, output_buf, num_rows, 3, store_rgb);
}

void jsimd_ycc_extrgbx_convert_neon(JDIMENSION out_width, JSAMPIMAGE input_buf,
                                    JDIMENSION input_row, JSAMPARRAY output_buf, int num_rows) {
  convert_rows(out_width, input_buf, input_row, output_buf, num_rows, 4, store_rgbx);
}
#endif
