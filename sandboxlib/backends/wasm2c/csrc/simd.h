/* sandboxlib: the SIMDe functions whose version for this machine computes something else
   than the wasm instruction they stand for, replaced. translate.py includes this file
   right after wasm2c's module.c includes SIMDe, so the functions of the module call
   these instead; tests/test_cpu_levels.py and tests/test_simd_ops.py compare what they
   compute with wasmtime's results. */
#ifndef SBX_SIMD_H
#define SBX_SIMD_H
#include <stdint.h>
#include <string.h>

/* u32x4.trunc_sat_f32x4: SIMDe's x86 version gives 2^31 for every lane from 2^31 to
   2^32 (the overflow value of x86's signed conversion). Lane by lane, as the scalar
   instruction (wasm2c's I32_TRUNC_SAT_U_F32): NaN and below 0 give 0, from 2^32 up
   UINT32_MAX. */
static inline simde_v128_t sbx_u32x4_trunc_sat_f32x4(simde_v128_t v) {
  float in[4];
  uint32_t out[4];
  memcpy(in, &v, sizeof in);
  for (int i = 0; i < 4; i++) {
    float x = in[i];
    out[i] = x != x ? 0 : !(x > -1.0f) ? 0 : !(x < 4294967296.0f) ? UINT32_MAX : (uint32_t)x;
  }
  memcpy(&v, out, sizeof out);
  return v;
}
#define simde_wasm_u32x4_trunc_sat_f32x4 sbx_u32x4_trunc_sat_f32x4

/* i64x2.all_true: SIMDe's SSE2 version (the baseline level; SSE4.1's is right) compares
   the lanes with 0.0 as doubles, so a lane of INT64_MIN's bits (-0.0) counts as zero
   and gives 0. Each lane compared as an integer. */
static inline simde_bool sbx_i64x2_all_true(simde_v128_t v) {
  uint64_t lanes[2];
  memcpy(lanes, &v, sizeof lanes);
  return lanes[0] != 0 && lanes[1] != 0;
}
#define simde_wasm_i64x2_all_true sbx_i64x2_all_true

#endif
