/* libjpeg-turbo's accurate integer inverse DCT (jidctint.c's math) in wasm SIMD128, under
   the name its Arm jsimd.c calls. Each 1-D pass works on eight vectors, one lane per
   column (then per row), and computes every output as dot products of interleaved input
   pairs with combined constants (i32x4.dot_i16x8_s: one pmaddwd on x86): the same
   integer sums as jidctint.c's, rearranged. As libjpeg-turbo's x86 SIMD code does, the
   dequantized coefficients and the first pass's results are 16-bit (saturated) and the
   pixels are clamped, so a valid image decodes to the same bytes. */
#ifdef __wasm__
#include <stdint.h>
#include <wasm_simd128.h>

#include "jinclude.h"
#include "jpeglib.h"

enum { CONST_BITS = 13, PASS1_BITS = 2 };

/* jidctint.c's constants, FIX(x) = round(x * 2^13) */
enum {
  F0_298 = 2446,
  F0_390 = 3196,
  F0_541 = 4433,
  F0_765 = 6270,
  F0_899 = 7373,
  F1_175 = 9633,
  F1_501 = 12299,
  F1_847 = 15137,
  F1_961 = 16069,
  F2_053 = 16819,
  F2_562 = 20995,
  F3_072 = 25172,
};

/* the i16 pairs (a, b) a dot product multiplies an interleaved pair of inputs by */
static inline v128_t pair(int16_t a, int16_t b) {
  return wasm_i16x8_make(a, b, a, b, a, b, a, b);
}

static inline v128_t dot(v128_t x, int16_t a, int16_t b) {
  return wasm_i32x4_dot_i16x8(x, pair(a, b));
}

static inline v128_t interleave_lo(v128_t a, v128_t b) {
  return wasm_i16x8_shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
}

static inline v128_t interleave_hi(v128_t a, v128_t b) {
  return wasm_i16x8_shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
}

/* Four lanes of one pass: f, e, p, q interleave inputs (0, 4), (2, 6), (1, 7), (3, 5);
   y[k] is output k before the descale's shift, its rounding `round` included. The odd
   part's products are jidctint.c's z1...z5 expanded per input: output 0 (its tmp0) is
   in7 (0.298 - 0.899 - 1.961 + 1.175) + in1 (-0.899 + 1.175) + in3 (-1.961 + 1.175) +
   in5 1.175, and so on. */
static inline void half_pass(v128_t f, v128_t e, v128_t p, v128_t q, int32_t round, v128_t y[8]) {
  const int16_t k1 = 1 << CONST_BITS, z5 = F1_175;
  v128_t r = wasm_i32x4_splat(round);
  v128_t tmp0 = wasm_i32x4_add(dot(f, k1, k1), r);
  v128_t tmp1 = wasm_i32x4_add(dot(f, k1, -k1), r);
  v128_t tmp2 = dot(e, F0_541, F0_541 - F1_847);
  v128_t tmp3 = dot(e, F0_541 + F0_765, F0_541);
  v128_t tmp10 = wasm_i32x4_add(tmp0, tmp3), tmp13 = wasm_i32x4_sub(tmp0, tmp3);
  v128_t tmp11 = wasm_i32x4_add(tmp1, tmp2), tmp12 = wasm_i32x4_sub(tmp1, tmp2);
  /* p = (in1, in7), q = (in3, in5) */
  v128_t o0 =
      wasm_i32x4_add(dot(p, z5 - F0_899, F0_298 - F0_899 - F1_961 + z5), dot(q, z5 - F1_961, z5));
  v128_t o1 =
      wasm_i32x4_add(dot(p, z5 - F0_390, z5), dot(q, z5 - F2_562, F2_053 - F2_562 - F0_390 + z5));
  v128_t o2 =
      wasm_i32x4_add(dot(p, z5, z5 - F1_961), dot(q, F3_072 - F2_562 - F1_961 + z5, z5 - F2_562));
  v128_t o3 =
      wasm_i32x4_add(dot(p, F1_501 - F0_899 - F0_390 + z5, z5 - F0_899), dot(q, z5, z5 - F0_390));
  y[0] = wasm_i32x4_add(tmp10, o3);
  y[7] = wasm_i32x4_sub(tmp10, o3);
  y[1] = wasm_i32x4_add(tmp11, o2);
  y[6] = wasm_i32x4_sub(tmp11, o2);
  y[2] = wasm_i32x4_add(tmp12, o1);
  y[5] = wasm_i32x4_sub(tmp12, o1);
  y[3] = wasm_i32x4_add(tmp13, o0);
  y[4] = wasm_i32x4_sub(tmp13, o0);
}

/* One 1-D pass over x[0..7] (input k in vector k), in place: each output descaled by
   `shift` bits, rounded, saturated to 16 bits. */
static inline void pass(v128_t x[8], int shift) {
  v128_t lo[8], hi[8];
  int32_t round = 1 << (shift - 1);
  half_pass(interleave_lo(x[0], x[4]), interleave_lo(x[2], x[6]), interleave_lo(x[1], x[7]),
            interleave_lo(x[3], x[5]), round, lo);
  half_pass(interleave_hi(x[0], x[4]), interleave_hi(x[2], x[6]), interleave_hi(x[1], x[7]),
            interleave_hi(x[3], x[5]), round, hi);
  for (int k = 0; k < 8; k++)
    x[k] = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(lo[k], shift), wasm_i32x4_shr(hi[k], shift));
}

/* x[k][j] becomes x[j][k] (8x8 16-bit) */
static inline void transpose(v128_t x[8]) {
  v128_t a[8], b[8];
  for (int k = 0; k < 4; k++) {
    a[2 * k] = interleave_lo(x[k], x[k + 4]);
    a[2 * k + 1] = interleave_hi(x[k], x[k + 4]);
  }
  for (int k = 0; k < 4; k++) {
    b[2 * k] = interleave_lo(a[k], a[k + 4]);
    b[2 * k + 1] = interleave_hi(a[k], a[k + 4]);
  }
  for (int k = 0; k < 4; k++) {
    x[2 * k] = interleave_lo(b[k], b[k + 4]);
    x[2 * k + 1] = interleave_hi(b[k], b[k + 4]);
  }
}

static inline int clamp(int v, int low, int high) {
  return v < low ? low : v > high ? high : v;
}

void jsimd_idct_islow_neon(void* dct_table, JCOEFPTR coef_block, JSAMPARRAY output_buf,
                           JDIMENSION output_col) {
  const int16_t* quant = (const int16_t*)dct_table;
  /* the rows read before any store, which could otherwise change them: so their eight
     loads are one run, which wasm2c checks once (backends/wasm2c/checks.py) */
  JSAMPROW rows[8];
  for (int k = 0; k < 8; k++)
    rows[k] = output_buf[k] + output_col;
  v128_t x[8], ac = wasm_i64x2_const(0, 0);
  for (int k = 0; k < 8; k++) {
    x[k] = wasm_i16x8_mul(wasm_v128_load(coef_block + 8 * k), wasm_v128_load(quant + 8 * k));
    if (k)
      ac = wasm_v128_or(ac, x[k]);
  }
  if (!wasm_v128_any_true(ac)) {
    /* Rows 1-7 zero: the first pass is row 0 times 4 (saturated) in every row. */
    v128_t dc = wasm_i16x8_add_sat(x[0], x[0]);
    dc = wasm_i16x8_add_sat(dc, dc);
    if (!wasm_v128_any_true(wasm_i16x8_replace_lane(dc, 0, 0))) {
      /* The DC alone: one value, the second pass's (w + 16) >> 5, clamped. */
      int v = clamp(((int)wasm_i16x8_extract_lane(dc, 0) + 16) >> 5, -128, 127) + CENTERJSAMPLE;
      for (int k = 0; k < 8; k++)
        memset(rows[k], v, 8);
      return;
    }
    for (int k = 0; k < 8; k++)
      x[k] = dc;
  } else {
    pass(x, CONST_BITS - PASS1_BITS);
  }
  transpose(x);
  pass(x, CONST_BITS + PASS1_BITS + 3);
  transpose(x);
  const v128_t center = wasm_i8x16_splat((int8_t)0x80);
  for (int k = 0; k < 8; k += 2) {
    v128_t pixels = wasm_v128_xor(wasm_i8x16_narrow_i16x8(x[k], x[k + 1]), center);
    wasm_v128_store64_lane(rows[k], pixels, 0);
    wasm_v128_store64_lane(rows[k + 1], pixels, 1);
  }
}
#endif
