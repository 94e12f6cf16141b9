/* <x86intrin.h> on wasm SIMD128: what <immintrin.h> has here. */
#ifndef SANDBOXLIB_X86INTRIN_H
#define SANDBOXLIB_X86INTRIN_H
#include "immintrin.h"
#endif
