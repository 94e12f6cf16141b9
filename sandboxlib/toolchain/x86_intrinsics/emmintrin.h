/* <emmintrin.h> (SSE2) on wasm SIMD128, by SIMDe (see sandboxlib_simde.h). */
#ifndef SANDBOXLIB_EMMINTRIN_H
#define SANDBOXLIB_EMMINTRIN_H
#include "sandboxlib_simde.h"
#include <simde/x86/sse2.h>
#endif
