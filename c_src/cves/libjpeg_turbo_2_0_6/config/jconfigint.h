/* TEST-ONLY: the jconfigint.h libjpeg-turbo 2.0.6's CMake build writes from
   jconfigint.h.in, for clang and gcc; the size of size_t taken from the compiler. */
#define BUILD "sandboxlib"
#undef inline
#define INLINE __inline__ __attribute__((always_inline))
#define THREAD_LOCAL __thread
#define PACKAGE_NAME "libjpeg-turbo"
#define VERSION "2.0.6"
#define SIZEOF_SIZE_T __SIZEOF_SIZE_T__
