/* libjpeg-turbo's YCbCr -> RGB conversion (jdcolext.c's, to 3-byte RGB and to RGBX) in
   wasm SIMD128, under the names its Arm jsimd.c calls (shim/neon/jdcolor-neon.c renames
   libjpeg-turbo's Neon one); the arithmetic is ycc-wasm.h's. */
#ifdef __wasm__
#include <string.h>

#include "ycc-wasm.h"

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
  v128_t vcb = wasm_v128_load(cb), vcr = wasm_v128_load(cr);
  const v128_t cbs[2] = {wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(vcb), center),
                         wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(vcb), center)};
  const v128_t crs[2] = {wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(vcr), center),
                         wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(vcr), center)};
  ycc16(wasm_v128_load(y), cbs, crs, rgb);
}

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
