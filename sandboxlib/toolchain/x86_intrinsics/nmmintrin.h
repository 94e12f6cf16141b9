/* <nmmintrin.h> (SSE4.2) on wasm SIMD128, by SIMDe (see sandboxlib_simde.h). */
#ifndef SANDBOXLIB_NMMINTRIN_H
#define SANDBOXLIB_NMMINTRIN_H
#include "sandboxlib_simde.h"
#include <simde/x86/sse4.2.h>
#endif
