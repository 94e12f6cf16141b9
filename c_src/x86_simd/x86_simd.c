#include <emmintrin.h>

#include "x86_simd.h"

uint32_t sse2_mix(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  __m128i x = _mm_set_epi32((int)a, (int)b, (int)c, (int)d);
  __m128i y = _mm_shuffle_epi32(x, 0x1b);
  __m128i s = _mm_adds_epu8(x, y);
  __m128i m = _mm_madd_epi16(s, _mm_set1_epi16(-3));
  __m128i p = _mm_packs_epi32(m, _mm_srai_epi32(m, 3));
  __m128i u = _mm_unpacklo_epi8(p, _mm_srli_si128(p, 5));
  __m128i v = _mm_xor_si128(u, _mm_srli_epi64(_mm_mullo_epi16(u, y), 17));
  __m128i w = _mm_avg_epu8(v, _mm_max_epi16(v, _mm_subs_epi8(x, y)));
  __m128i z = _mm_add_epi32(w, _mm_shuffle_epi32(w, 0x4e));
  return (uint32_t)_mm_cvtsi128_si32(_mm_add_epi32(z, _mm_shuffle_epi32(z, 0xb1)));
}
