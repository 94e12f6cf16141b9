/* x86 SSE intrinsics in a wasm32 build (sandboxlib): each <*mmintrin.h> here is SIMDe's
   implementation of that header on wasm SIMD128, under the x86 names (_mm_*, __m128i). */
#ifndef SANDBOXLIB_SIMDE_H
#define SANDBOXLIB_SIMDE_H
#define SIMDE_ENABLE_NATIVE_ALIASES 1
#define SIMDE_FLOAT16_API 1 /* SIMDE_FLOAT16_API_PORTABLE: wasm32 has no _Float16 */
#endif
