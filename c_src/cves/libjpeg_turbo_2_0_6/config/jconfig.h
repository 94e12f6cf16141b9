/* TEST-ONLY: the jconfig.h libjpeg-turbo 2.0.6's CMake build writes from jconfig.h.in for
   its reader test (c_src/cves/libjpeg_turbo_2_0_6/): libjpeg v6b's API, 8-bit samples,
   no SIMD, a standard C library. */
#define JPEG_LIB_VERSION 62
#define LIBJPEG_TURBO_VERSION 2.0.6
#define LIBJPEG_TURBO_VERSION_NUMBER 2000006
#define BITS_IN_JSAMPLE 8
#define HAVE_LOCALE_H 1
#define HAVE_STDDEF_H 1
#define HAVE_STDLIB_H 1
#define HAVE_UNSIGNED_CHAR 1
#define HAVE_UNSIGNED_SHORT 1
