/* libjpeg-turbo's Huffman decoders with a 64-bit bit buffer in wasm32, as it builds them
   for x32 (jdhuff.h and jdhuff.c choose 64 bits for __x86_64__ with __ILP32__, which
   wasm32 defines; else 32 bits when size_t has 32): wasm has 64-bit integers, so six
   bytes are fetched per refill instead of two. The system headers are read first, so
   that only libjpeg-turbo's choice sees the macro. */
#include <limits.h>

#include "jinclude.h"

#if defined(__wasm32__) && defined(__ILP32__) && !defined(__x86_64__)
#define __x86_64__ 1
#endif
