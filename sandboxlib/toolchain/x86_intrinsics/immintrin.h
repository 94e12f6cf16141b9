/* <immintrin.h> on wasm SIMD128: every instruction set SIMDe implements here, SSE to SSE4.2
   (see sandboxlib_simde.h). AVX and later are not: the build does not define their
   feature macros (__AVX__ ...), so code guarded by them is not compiled, and code
   calling their intrinsics unguarded fails to compile. */
#ifndef SANDBOXLIB_IMMINTRIN_H
#define SANDBOXLIB_IMMINTRIN_H
#include "nmmintrin.h"
#endif
