/* sandboxlib: strspn for every wasm module built with SIMD. zig's wasm libc's measures
   both strings, then looks each byte up in the set with a loop: Lua's string.format
   spans each conversion's flags and digits with a 14-byte set, 300 wasm2c instructions
   a call. Here the set stays in the (at most two) 16-byte aligned blocks that hold it,
   and each byte of the string is compared with all of it at once; a longer set is a
   map of the 256 values. The set is read in those aligned blocks (the second only if
   the set goes on into it): an aligned block never crosses a 64 KiB page, so it is in
   the memory whenever one of its bytes is. The string is read a byte at a time up to
   its first byte not in the set (its NUL at the latest): its spans are mostly short. */
#ifdef __wasm_simd128__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

/* The aligned blocks holding the set, and the lanes (bit i: low's lane i, bit 16 + i:
   high's) that hold its bytes. */
struct set {
  v128_t low, high;
  uint32_t lanes;
};

static uint32_t nuls(v128_t block) {
  return wasm_i8x16_bitmask(wasm_i8x16_eq(block, wasm_i8x16_splat(0)));
}

/* The set's blocks, or false if it does not end in the two blocks from its first. */
static bool set_blocks(const unsigned char* accept, struct set* set) {
  const unsigned skew = (uintptr_t)accept & 15;
  set->low = wasm_v128_load(accept - skew);
  set->high = wasm_i8x16_splat(0);
  uint32_t nul = nuls(set->low) >> skew << skew; /* the NULs from the set's start on */
  if (nul == 0) {
    set->high = wasm_v128_load(accept - skew + 16);
    nul = nuls(set->high) << 16;
    if (nul == 0)
      return false;
  }
  set->lanes = ((nul & -nul) - 1) & ~((1u << skew) - 1); /* from the start to its NUL */
  return true;
}

static bool member(const struct set* set, unsigned char c) {
  const v128_t needle = wasm_i8x16_splat((int8_t)c);
  const uint32_t hits = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(set->low, needle)) |
                        (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(set->high, needle)) << 16;
  return (hits & set->lanes) != 0;
}

/* A longer set, looked up in a map of the 256 values. */
static size_t span_in_map(const unsigned char* s, const unsigned char* accept) {
  uint32_t map[8] = {0};
  for (; *accept; accept++)
    map[*accept >> 5] |= 1u << (*accept & 31);
  size_t n = 0;
  while (s[n] && (map[s[n] >> 5] >> (s[n] & 31) & 1))
    n++;
  return n;
}

size_t strspn(const char* str, const char* accept) {
  const unsigned char* s = (const unsigned char*)str;
  struct set set;
  if (!set_blocks((const unsigned char*)accept, &set))
    return span_in_map(s, (const unsigned char*)accept);
  size_t n = 0;
  while (member(&set, s[n])) /* never the NUL: the lanes end before the set's */
    n++;
  return n;
}
#endif
