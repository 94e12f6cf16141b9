/* libjpeg-turbo 2.1.5's jconfig.h as its CMake build writes it with the defaults:
   libjpeg v6b's API, 8-bit samples, arithmetic coding, the in-memory source and
   destination, and SIMD in the wasm build only (its Arm Neon code: jpeg.toml). */
#define JPEG_LIB_VERSION 62
#define LIBJPEG_TURBO_VERSION 2.1.5
#define LIBJPEG_TURBO_VERSION_NUMBER 2001005
#define C_ARITH_CODING_SUPPORTED 1
#define D_ARITH_CODING_SUPPORTED 1
#define MEM_SRCDST_SUPPORTED 1
#define BITS_IN_JSAMPLE 8
#ifdef __wasm__
#define WITH_SIMD 1
#endif
