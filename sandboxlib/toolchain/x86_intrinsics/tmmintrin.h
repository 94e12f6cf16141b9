/* <tmmintrin.h> (SSSE3) on wasm SIMD128, by SIMDe (see sandboxlib_simde.h). */
#ifndef SANDBOXLIB_TMMINTRIN_H
#define SANDBOXLIB_TMMINTRIN_H
#include "sandboxlib_simde.h"
#include <simde/x86/ssse3.h>
#endif
