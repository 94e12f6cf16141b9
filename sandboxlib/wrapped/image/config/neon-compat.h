/* libjpeg-turbo 2.1.5's simd/arm/neon-compat.h as its CMake build writes it for clang
   (SIMDe has the three multi-register loads it tests for). */
#define HAVE_VLD1_S16_X3
#define HAVE_VLD1_U16_X2
#define HAVE_VLD1Q_U8_X4
#define BUILTIN_CLZ(x) __builtin_clz(x)
#define BUILTIN_CLZLL(x) __builtin_clzll(x)
#define BUILTIN_BSWAP64(x) __builtin_bswap64(x)
