/* <xmmintrin.h> (SSE) on wasm SIMD128, by SIMDe (see sandboxlib_simde.h). */
#ifndef SANDBOXLIB_XMMINTRIN_H
#define SANDBOXLIB_XMMINTRIN_H
#include "sandboxlib_simde.h"
#include <simde/x86/sse.h>
#endif
