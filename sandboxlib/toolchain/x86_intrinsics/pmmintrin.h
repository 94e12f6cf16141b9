/* <pmmintrin.h> (SSE3) on wasm SIMD128, by SIMDe (see sandboxlib_simde.h). */
#ifndef SANDBOXLIB_PMMINTRIN_H
#define SANDBOXLIB_PMMINTRIN_H
#include "sandboxlib_simde.h"
#include <simde/x86/sse3.h>
#endif
