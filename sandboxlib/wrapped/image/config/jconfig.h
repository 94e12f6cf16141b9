/* libjpeg-turbo 2.1.5's jconfig.h as its CMake build writes it with the defaults but
   SIMD (WITH_SIMD=0: its SIMD code is x86 assembly): libjpeg v6b's API, 8-bit samples,
   arithmetic coding and the in-memory source and destination. */
#define JPEG_LIB_VERSION 62
#define LIBJPEG_TURBO_VERSION 2.1.5
#define LIBJPEG_TURBO_VERSION_NUMBER 2001005
#define C_ARITH_CODING_SUPPORTED 1
#define D_ARITH_CODING_SUPPORTED 1
#define MEM_SRCDST_SUPPORTED 1
#define BITS_IN_JSAMPLE 8
