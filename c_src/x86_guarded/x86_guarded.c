#include "x86_guarded.h"

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

uint32_t guarded_levels(void) {
  uint32_t levels = 0;
#if defined(__SSE__)
  levels |= 1u << 0;
#endif
#if defined(__SSE2__)
  levels |= 1u << 1;
#endif
#if defined(__SSE3__)
  levels |= 1u << 2;
#endif
#if defined(__SSSE3__)
  levels |= 1u << 3;
#endif
#if defined(__SSE4_1__)
  levels |= 1u << 4;
#endif
#if defined(__SSE4_2__)
  levels |= 1u << 5;
#endif
  return levels;
}

int32_t guarded_max_sum(const int32_t *a, const int32_t *b) {
#if defined(__SSE4_1__)
  __m128i sum = _mm_setzero_si128();
  for (int i = 0; i < 16; i += 4) {
    __m128i x = _mm_loadu_si128((const __m128i *)(a + i));
    __m128i y = _mm_loadu_si128((const __m128i *)(b + i));
    sum = _mm_add_epi32(sum, _mm_max_epi32(x, y));
  }
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
  return _mm_cvtsi128_si32(sum);
#else
  uint32_t sum = 0;
  for (int i = 0; i < 16; i++)
    sum += (uint32_t)(a[i] > b[i] ? a[i] : b[i]);
  return (int32_t)sum;
#endif
}
