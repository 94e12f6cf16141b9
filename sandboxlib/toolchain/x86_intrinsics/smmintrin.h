/* <smmintrin.h> (SSE4.1) on wasm SIMD128, by SIMDe (see sandboxlib_simde.h). */
#ifndef SANDBOXLIB_SMMINTRIN_H
#define SANDBOXLIB_SMMINTRIN_H
#include "sandboxlib_simde.h"
#include <simde/x86/sse4.1.h>
#endif
