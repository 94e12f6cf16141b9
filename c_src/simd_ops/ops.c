#include "ops.h"

#include <string.h>
#include <wasm_simd128.h>

/* The ops of each group as X-macro lists: U(op) is wasm_<op>(a), B(op) wasm_<op>(a, b),
   V(name, expression) anything else; each op is a function of its own, called through a
   table, so that each compiles to its instruction alone. */
// clang-format off
#define LANES2(M, s) M(s, 0) M(s, 1)
#define LANES4(M, s) LANES2(M, s) M(s, 2) M(s, 3)
#define LANES8(M, s) LANES4(M, s) M(s, 4) M(s, 5) M(s, 6) M(s, 7)
#define LANES16(M, s) \
  LANES8(M, s) M(s, 8) M(s, 9) M(s, 10) M(s, 11) M(s, 12) M(s, 13) M(s, 14) M(s, 15)

/* the ops f32x4 and f64x2 (shape s) both have */
#define FLOAT(U, B, s)                                                                    \
  U(s##_abs) U(s##_neg) U(s##_sqrt) U(s##_ceil) U(s##_floor) U(s##_trunc) U(s##_nearest)  \
  B(s##_add) B(s##_sub) B(s##_mul) B(s##_div) B(s##_min) B(s##_max) B(s##_pmin)           \
  B(s##_pmax) B(s##_eq) B(s##_ne) B(s##_lt) B(s##_gt) B(s##_le) B(s##_ge)

#define VECTOR(U, B, V)                                                                   \
  U(v128_not) B(v128_and) B(v128_or) B(v128_xor) B(v128_andnot)                           \
  V(v128_bitselect, wasm_v128_bitselect(a, b, c))                                          \
  V(v128_const, wasm_v128_xor(a, wasm_i32x4_const(1, -2, 0x7fffffff, (int)0x80000000)))   \
  B(i8x16_swizzle)                                                                        \
  V(i8x16_shuffle_interleave, wasm_i8x16_shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, \
                                                 5, 21, 6, 22, 7, 23))                    \
  V(i8x16_shuffle_reverse, wasm_i8x16_shuffle(a, b, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,\
                                              4, 3, 2, 1, 0))                             \
  V(i8x16_shuffle_mixed, wasm_i8x16_shuffle(a, b, 31, 0, 17, 5, 5, 30, 8, 19, 2, 2, 27,   \
                                            11, 16, 14, 23, 9))                           \
  V(i8x16_shuffle_b, wasm_i8x16_shuffle(a, b, 20, 21, 22, 23, 16, 17, 18, 19, 28, 29, 30, \
                                        31, 24, 25, 26, 27))                              \
  V(i8x16_shuffle_broadcast, wasm_i8x16_shuffle(a, b, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, \
                                                5, 5, 5, 5))                              \
  V(i16x8_shuffle_high, wasm_i16x8_shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15))            \
  V(i32x4_shuffle_mixed, wasm_i32x4_shuffle(a, b, 3, 6, 0, 5))                            \
  V(i64x2_shuffle_cross, wasm_i64x2_shuffle(a, b, 1, 2))                                  \
  U(i8x16_abs) U(i8x16_neg) U(i8x16_popcnt)                                               \
  B(i8x16_add) B(i8x16_add_sat) B(u8x16_add_sat) B(i8x16_sub) B(i8x16_sub_sat)            \
  B(u8x16_sub_sat) B(i8x16_min) B(u8x16_min) B(i8x16_max) B(u8x16_max) B(u8x16_avgr)      \
  B(i8x16_eq) B(i8x16_ne) B(i8x16_lt) B(u8x16_lt) B(i8x16_gt) B(u8x16_gt) B(i8x16_le)     \
  B(u8x16_le) B(i8x16_ge) B(u8x16_ge) B(i8x16_narrow_i16x8) B(u8x16_narrow_i16x8)         \
  U(i16x8_abs) U(i16x8_neg) U(i16x8_extend_low_i8x16) U(i16x8_extend_high_i8x16)          \
  U(u16x8_extend_low_u8x16) U(u16x8_extend_high_u8x16) U(i16x8_extadd_pairwise_i8x16)     \
  U(u16x8_extadd_pairwise_u8x16)                                                          \
  B(i16x8_add) B(i16x8_add_sat) B(u16x8_add_sat) B(i16x8_sub) B(i16x8_sub_sat)            \
  B(u16x8_sub_sat) B(i16x8_mul) B(i16x8_min) B(u16x8_min) B(i16x8_max) B(u16x8_max)       \
  B(u16x8_avgr) B(i16x8_q15mulr_sat) B(i16x8_eq) B(i16x8_ne) B(i16x8_lt) B(u16x8_lt)      \
  B(i16x8_gt) B(u16x8_gt) B(i16x8_le) B(u16x8_le) B(i16x8_ge) B(u16x8_ge)                 \
  B(i16x8_narrow_i32x4) B(u16x8_narrow_i32x4) B(i16x8_extmul_low_i8x16)                   \
  B(i16x8_extmul_high_i8x16) B(u16x8_extmul_low_u8x16) B(u16x8_extmul_high_u8x16)         \
  U(i32x4_abs) U(i32x4_neg) U(i32x4_extend_low_i16x8) U(i32x4_extend_high_i16x8)          \
  U(u32x4_extend_low_u16x8) U(u32x4_extend_high_u16x8) U(i32x4_extadd_pairwise_i16x8)     \
  U(u32x4_extadd_pairwise_u16x8) U(i32x4_trunc_sat_f32x4) U(u32x4_trunc_sat_f32x4)        \
  U(i32x4_trunc_sat_f64x2_zero) U(u32x4_trunc_sat_f64x2_zero)                             \
  B(i32x4_add) B(i32x4_sub) B(i32x4_mul) B(i32x4_min) B(u32x4_min) B(i32x4_max)           \
  B(u32x4_max) B(i32x4_dot_i16x8) B(i32x4_eq) B(i32x4_ne) B(i32x4_lt) B(u32x4_lt)         \
  B(i32x4_gt) B(u32x4_gt) B(i32x4_le) B(u32x4_le) B(i32x4_ge) B(u32x4_ge)                 \
  B(i32x4_extmul_low_i16x8) B(i32x4_extmul_high_i16x8) B(u32x4_extmul_low_u16x8)          \
  B(u32x4_extmul_high_u16x8)                                                              \
  U(i64x2_abs) U(i64x2_neg) U(i64x2_extend_low_i32x4) U(i64x2_extend_high_i32x4)          \
  U(u64x2_extend_low_u32x4) U(u64x2_extend_high_u32x4)                                    \
  B(i64x2_add) B(i64x2_sub) B(i64x2_mul) B(i64x2_eq) B(i64x2_ne) B(i64x2_lt) B(i64x2_gt)  \
  B(i64x2_le) B(i64x2_ge) B(i64x2_extmul_low_i32x4) B(i64x2_extmul_high_i32x4)            \
  B(u64x2_extmul_low_u32x4) B(u64x2_extmul_high_u32x4)                                    \
  FLOAT(U, B, f32x4) U(f32x4_convert_i32x4) U(f32x4_convert_u32x4)                       \
  U(f32x4_demote_f64x2_zero)                                                              \
  FLOAT(U, B, f64x2) U(f64x2_convert_low_i32x4) U(f64x2_convert_low_u32x4)                \
  U(f64x2_promote_low_f32x4)

/* S(op): wasm_<op>(a, count); P(shape): <shape>.splat; R(shape, lane): replace_lane */
#define SCALAR_IN(S, P, R)                                                                \
  S(i8x16_shl) S(i8x16_shr) S(u8x16_shr) S(i16x8_shl) S(i16x8_shr) S(u16x8_shr)           \
  S(i32x4_shl) S(i32x4_shr) S(u32x4_shr) S(i64x2_shl) S(i64x2_shr) S(u64x2_shr)           \
  P(i8x16) P(i16x8) P(i32x4) P(i64x2) P(f32x4) P(f64x2)                                   \
  LANES16(R, i8x16) LANES8(R, i16x8) LANES4(R, i32x4) LANES2(R, i64x2) LANES4(R, f32x4)   \
  LANES2(R, f64x2)

/* Q(op): wasm_<op>(a); E(shape, lane): extract_lane */
#define SCALAR_OUT(Q, E)                                                                  \
  Q(i8x16_bitmask) Q(i16x8_bitmask) Q(i32x4_bitmask) Q(i64x2_bitmask) Q(i8x16_all_true)   \
  Q(i16x8_all_true) Q(i32x4_all_true) Q(i64x2_all_true) Q(v128_any_true)                  \
  LANES16(E, i8x16) LANES16(E, u8x16) LANES8(E, i16x8) LANES8(E, u16x8) LANES4(E, i32x4)  \
  LANES2(E, i64x2) LANES4(E, f32x4) LANES2(E, f64x2)

/* L(op): block of wasm_<op>(p); M(name, statement) anything else; LL(size, lane):
   v128.load<size>_lane; SL(size, lane): v128.store<size>_lane 3 bytes into the block */
#define MEMORY(L, M, LL, SL)                                                              \
  L(v128_load) L(v128_load8_splat) L(v128_load16_splat) L(v128_load32_splat)              \
  L(v128_load64_splat) L(v128_load32_zero) L(v128_load64_zero) L(i16x8_load8x8)           \
  L(u16x8_load8x8) L(i32x4_load16x4) L(u32x4_load16x4) L(i64x2_load32x2)                  \
  L(u64x2_load32x2)                                                                       \
  M(v128_store, wasm_v128_store(q, a))                                                    \
  LANES16(LL, 8) LANES8(LL, 16) LANES4(LL, 32) LANES2(LL, 64)                             \
  LANES16(SL, 8) LANES8(SL, 16) LANES4(SL, 32) LANES2(SL, 64)

// clang-format on

/* scalars in and out of lanes of each shape, as the 64 bits of a test's buffers */
#define f32_of(s) __builtin_bit_cast(float, (uint32_t)(s))
#define f64_of(s) __builtin_bit_cast(double, (uint64_t)(s))
#define of_f32(f) ((uint64_t)__builtin_bit_cast(uint32_t, (float)(f)))
#define of_f64(f) __builtin_bit_cast(uint64_t, (double)(f))
#define in_i8x16(s) ((int8_t)(s))
#define in_i16x8(s) ((int16_t)(s))
#define in_i32x4(s) ((int32_t)(s))
#define in_i64x2(s) ((int64_t)(s))
#define in_f32x4(s) (-f32_of(s)) /* negated, so that a float (not its bits) is a lane */
#define in_f64x2(s) (-f64_of(s))
/* a lane's value into *wide, or (i8 and i16 lanes, sign-extended) into *narrow: as one
   64-bit value, clang would extract them zero-extended and extend the sign in 64 bits */
#define out_i8x16(x) (*narrow = (uint32_t)(int32_t)(x))
#define out_u8x16(x) (*wide = (x))
#define out_i16x8(x) (*narrow = (uint32_t)(int32_t)(x))
#define out_u16x8(x) (*wide = (x))
#define out_i32x4(x) (*wide = (uint32_t)(x))
#define out_i64x2(x) (*wide = (uint64_t)(x) * 3) /* times 3, else v128.store64_lane */
#define out_f32x4(x) (*wide = of_f32(-(x)))      /* negated (exactly: its sign flipped) likewise */
#define out_f64x2(x) (*wide = of_f64(-(x)))

#define DEF_U(op) DEF_V(op, wasm_##op(a))
#define DEF_B(op) DEF_V(op, wasm_##op(a, b))
#define DEF_V(name, e)                                   \
  static v128_t v_##name(v128_t a, v128_t b, v128_t c) { \
    (void)a, (void)b, (void)c;                           \
    return e;                                            \
  }
#define DEF_S(op) DEF_SI(op, wasm_##op(a, (uint32_t)s))
#define DEF_P(shape) DEF_SI(shape##_splat, wasm_##shape##_splat(in_##shape(s)))
#define DEF_R(shape, l) \
  DEF_SI(shape##_replace_lane_##l, wasm_##shape##_replace_lane(a, l, in_##shape(s)))
#define DEF_SI(name, e)                           \
  static v128_t si_##name(v128_t a, uint64_t s) { \
    (void)a;                                      \
    return e;                                     \
  }
#define DEF_Q(op) DEF_SO(op, *wide = (uint64_t)wasm_##op(a))
#define DEF_E(shape, l) \
  DEF_SO(shape##_extract_lane_##l, out_##shape(wasm_##shape##_extract_lane(a, l)))
#define DEF_SO(name, e)                                               \
  static void so_##name(v128_t a, uint64_t* wide, uint32_t* narrow) { \
    (void)wide, (void)narrow;                                         \
    e;                                                                \
  }
#define DEF_L(op) DEF_M(op, wasm_v128_store(q, wasm_##op(p)))
#define DEF_LL(size, l) \
  DEF_M(v128_load##size##_lane_##l, wasm_v128_store(q, wasm_v128_load##size##_lane(p, a, l)))
#define DEF_SL(size, l) \
  DEF_M(v128_store##size##_lane_##l, wasm_v128_store##size##_lane(q + 3, a, l))
#define DEF_M(name, e)                                           \
  static void m_##name(const uint8_t* p, v128_t a, uint8_t* q) { \
    (void)p, (void)a;                                            \
    e;                                                           \
  }

VECTOR(DEF_U, DEF_B, DEF_V)
SCALAR_IN(DEF_S, DEF_P, DEF_R)
SCALAR_OUT(DEF_Q, DEF_E)
MEMORY(DEF_L, DEF_M, DEF_LL, DEF_SL)

#define FN_1(op) FN_V(op, )
#define FN_V(name, e) v_##name,
#define FN_S(op) si_##op,
#define FN_P(shape) si_##shape##_splat,
#define FN_R(shape, l) si_##shape##_replace_lane_##l,
#define FN_Q(op) so_##op,
#define FN_E(shape, l) so_##shape##_extract_lane_##l,
#define FN_L(op) m_##op,
#define FN_M(name, e) m_##name,
#define FN_LL(size, l) m_v128_load##size##_lane_##l,
#define FN_SL(size, l) m_v128_store##size##_lane_##l,

static v128_t (*const VECTOR_OPS[])(v128_t, v128_t, v128_t) = {VECTOR(FN_1, FN_1, FN_V)};
static v128_t (*const SCALAR_IN_OPS[])(v128_t, uint64_t) = {SCALAR_IN(FN_S, FN_P, FN_R)};
static void (*const SCALAR_OUT_OPS[])(v128_t, uint64_t*, uint32_t*) = {SCALAR_OUT(FN_Q, FN_E)};
static void (*const MEMORY_OPS[])(const uint8_t*, v128_t,
                                  uint8_t*) = {MEMORY(FN_L, FN_M, FN_LL, FN_SL)};

#define NAME_1(op) " " #op
#define NAME_V(name, e) " " #name
#define NAME_P(shape) " " #shape "_splat"
#define NAME_R(shape, l) " " #shape "_replace_lane_" #l
#define NAME_E(shape, l) " " #shape "_extract_lane_" #l
#define NAME_LL(size, l) " v128_load" #size "_lane_" #l
#define NAME_SL(size, l) " v128_store" #size "_lane_" #l

static const char NAMES[] =
    "vector:" VECTOR(NAME_1, NAME_1, NAME_V) "\n"
    "scalar_in:" SCALAR_IN(NAME_1, NAME_P, NAME_R) "\n"
    "scalar_out:" SCALAR_OUT(NAME_1, NAME_E) "\n"
    "memory:" MEMORY(NAME_1, NAME_V, NAME_LL, NAME_SL) "\n";

size_t simd_names(uint8_t* out, size_t cap) {
  memcpy(out, NAMES, cap < sizeof NAMES - 1 ? cap : sizeof NAMES - 1);
  return sizeof NAMES - 1;
}

#define COUNT(table) (sizeof table / sizeof table[0])

void simd_vector(size_t op, const uint8_t* a, const uint8_t* b, const uint8_t* c, uint8_t* out,
                 size_t n) {
  if (op >= COUNT(VECTOR_OPS))
    return;
  for (size_t i = 0; i < n; i++)
    wasm_v128_store(out + 16 * i,
                    VECTOR_OPS[op](wasm_v128_load(a + 16 * i), wasm_v128_load(b + 16 * i),
                                   wasm_v128_load(c + 16 * i)));
}

void simd_scalar_in(size_t op, const uint8_t* a, const uint64_t* s, uint8_t* out, size_t n) {
  if (op >= COUNT(SCALAR_IN_OPS))
    return;
  for (size_t i = 0; i < n; i++)
    wasm_v128_store(out + 16 * i, SCALAR_IN_OPS[op](wasm_v128_load(a + 16 * i), s[i]));
}

void simd_scalar_out(size_t op, const uint8_t* a, uint64_t* out, size_t n) {
  if (op >= COUNT(SCALAR_OUT_OPS))
    return;
  for (size_t i = 0; i < n; i++) {
    uint64_t wide = 0;
    uint32_t narrow = 0;
    SCALAR_OUT_OPS[op](wasm_v128_load(a + 16 * i), &wide, &narrow);
    out[i] = wide | narrow;
  }
}

void simd_memory(size_t op, const uint8_t* in, uint8_t* out, size_t n) {
  if (op >= COUNT(MEMORY_OPS))
    return;
  memset(out, 0xa5, 16 * n);
  for (size_t i = 0; i < n; i++)
    MEMORY_OPS[op](in + i, wasm_v128_load(in + 16 * i), out + 16 * i);
}
