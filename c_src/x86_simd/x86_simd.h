/* SSE2 arithmetic for the x86-intrinsics test: natively the CPU's instructions, in a
   wasm build (wasm_x86_intrinsics) SIMDe's implementation on wasm SIMD128. */
#include <stdint.h>

/* A mix of four words through saturating, multiply-add, pack, shuffle and shift
   intrinsics; every backend must give the same value. */
uint32_t sse2_mix(uint32_t a, uint32_t b, uint32_t c, uint32_t d);
