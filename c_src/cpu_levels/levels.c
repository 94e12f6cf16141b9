#include "levels.h"

#include <math.h>
#include <string.h>
#include <wasm_simd128.h>

double levels_muladd(double a, double b, double c) {
  return a * b + c;
}

float levels_muladdf(float a, float b, float c) {
  return a * b + c;
}

static float as_float(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* f's bits, every NaN as one (wasm leaves a NaN result's sign and payload open) */
static uint32_t as_bits(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return f != f ? 0x7fc00000u : bits;
}

/* v with every NaN lane of 32 (f32x4) or 64 bits (f64x2) as one NaN */
static v128_t canon32(v128_t v) {
  return wasm_v128_bitselect(wasm_i32x4_splat(0x7fc00000), v, wasm_f32x4_ne(v, v));
}

static v128_t canon64(v128_t v) {
  return wasm_v128_bitselect(wasm_i64x2_splat(0x7ff8000000000000), v, wasm_f64x2_ne(v, v));
}

void levels_scalar(const uint32_t* in, uint32_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t x = in[i], y = in[(i + 1) % n];
    float f = as_float(x), g = as_float(y);
    out[4 * i] = (uint32_t)__builtin_popcount(x) | (uint32_t)(x ? __builtin_clz(x) : 32) << 8 |
                 (uint32_t)(x ? __builtin_ctz(x) : 32) << 16 |
                 (uint32_t)((x >> (y & 31)) | (x << (32 - (y & 31)) % 32)) << 24;
    out[4 * i + 1] = as_bits(nearbyintf(f)) ^ as_bits(truncf(g)) ^ as_bits(floorf(f)) ^
                     as_bits(ceilf(g)) ^ as_bits(sqrtf(f));
    out[4 * i + 2] = as_bits(fminf(f, g)) ^ (as_bits(fmaxf(f, g)) << 1) ^
                     as_bits(__builtin_wasm_min_f32(f, g)) ^ as_bits(__builtin_wasm_max_f32(g, f));
    out[4 * i + 3] = (uint32_t)__builtin_wasm_trunc_saturate_s_i32_f32(f) ^
                     (uint32_t)__builtin_wasm_trunc_saturate_u_i32_f32(g) * 3u ^
                     (uint32_t)(x / (y | 1)) ^ (uint32_t)((int32_t)x % (int32_t)(y | 3));
  }
}

void levels_simd(const uint8_t* in, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    v128_t a = wasm_v128_load(in + 16 * i), b = wasm_v128_load(in + 16 * ((i + 1) % n));
    v128_t r = wasm_i8x16_swizzle(a, b); /* indices of 16 and more give 0 */
    r = wasm_v128_xor(r, wasm_i32x4_mul(a, b));
    r = wasm_v128_xor(r, wasm_i64x2_mul(a, b));
    r = wasm_v128_xor(r, wasm_i16x8_q15mulr_sat(a, b));
    r = wasm_v128_xor(r, canon32(wasm_f32x4_min(a, b)));
    r = wasm_v128_xor(r, canon32(wasm_f32x4_max(b, a)));
    r = wasm_v128_xor(r, canon32(wasm_f32x4_pmin(a, b)));
    r = wasm_v128_xor(r, canon32(wasm_f32x4_nearest(a)));
    r = wasm_v128_xor(r, wasm_i32x4_trunc_sat_f32x4(b));
    r = wasm_v128_xor(r, wasm_u32x4_trunc_sat_f32x4(a));
    r = wasm_v128_xor(r, wasm_i8x16_popcnt(a));
    r = wasm_v128_xor(r, wasm_u8x16_narrow_i16x8(a, b));
    r = wasm_v128_xor(r, wasm_i16x8_narrow_i32x4(b, a));
    r = wasm_v128_xor(r, wasm_i32x4_dot_i16x8(a, b));
    r = wasm_v128_xor(r, wasm_u8x16_avgr(a, b));
    r = wasm_v128_xor(r, wasm_i64x2_shr(a, (uint32_t)in[16 * i] % 70));
    r = wasm_v128_xor(r, wasm_u16x8_gt(a, b));
    r = wasm_v128_xor(r, wasm_i64x2_gt(b, a));
    r = wasm_v128_xor(r, canon64(wasm_f64x2_sqrt(b)));
    r = wasm_v128_xor(r, canon64(wasm_f64x2_add(wasm_f64x2_mul(a, b), a)));
    r = wasm_v128_xor(r, canon32(wasm_f32x4_demote_f64x2_zero(a)));
    r = wasm_v128_xor(r, wasm_i32x4_extmul_low_i16x8(a, b));
    wasm_v128_store(out + 16 * i, r);
  }
}
