/* Relaxed SIMD (compiled with -mrelaxed-simd, which the toolchain never passes by
   itself): tests/test_simd_ops.py checks what each backend makes of it. */
#include <stdint.h>
#include <string.h>
#include <wasm_simd128.h>

/* The float with these bits, as i32x4.relaxed_trunc_f32x4_u converts it */
uint32_t relaxed_trunc_u(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return (uint32_t)wasm_i32x4_extract_lane(wasm_u32x4_relaxed_trunc_f32x4(wasm_f32x4_splat(f)), 0);
}
