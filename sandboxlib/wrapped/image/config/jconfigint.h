/* libjpeg-turbo 2.1.5's jconfigint.h as its CMake build writes it for GCC and clang,
   the size of size_t taken from the compiler (4 in wasm32, 8 natively). */
#define BUILD "sandboxlib"
#undef inline
#define INLINE __inline__ __attribute__((always_inline))
#define THREAD_LOCAL __thread
#define PACKAGE_NAME "libjpeg-turbo"
#define VERSION "2.1.5"
#define SIZEOF_SIZE_T __SIZEOF_SIZE_T__
#define HAVE_BUILTIN_CTZL
#define FALLTHROUGH __attribute__((fallthrough));
