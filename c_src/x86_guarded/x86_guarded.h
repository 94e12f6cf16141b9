/* A library that, like most with SSE code, tests the compiler's feature macros before
   including intrinsics headers, and has a scalar fallback; both paths agree. */
#include <stdint.h>

/* Bit k set: __SSE__, __SSE2__, __SSE3__, __SSSE3__, __SSE4_1__, __SSE4_2__ (k = 0..5)
   was defined when this library was compiled. */
uint32_t guarded_levels(void);

/* The sum of the larger of a[i] and b[i] over 16 signed 32-bit pairs: SSE4.1's
   _mm_max_epi32 where __SSE4_1__ is defined, C otherwise. */
int32_t guarded_max_sum(const int32_t *a, const int32_t *b);
