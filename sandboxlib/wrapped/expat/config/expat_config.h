/* expat_config.h for sandboxlib's build of expat 2.5.0: our own file, written by
 * hand for the two targets the library is compiled for (wasm32-wasi, and the host
 * for the native backend) in place of the one CMake or configure would generate.
 * Features (XML_NS, XML_DTD, XML_CONTEXT_BYTES) are set in expat.toml. */
#ifndef EXPAT_CONFIG_H
#define EXPAT_CONFIG_H 1

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#  define BYTEORDER 4321
#  define WORDS_BIGENDIAN 1
#else
#  define BYTEORDER 1234 /* wasm32 is little-endian */
#endif

#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define STDC_HEADERS 1

#define PACKAGE "expat"
#define PACKAGE_NAME "expat"
#define PACKAGE_VERSION "2.5.0"

/* The hash salt (protection against hash flooding) always comes from the host:
 * wrapped.expat calls XML_SetHashSalt with a salt from Python's `secrets` before
 * the first parse, as CPython's pyexpat does, so expat never gathers entropy
 * itself. Inside the sandbox there is none to gather (no random or clock
 * capability is granted), so the entropy source expat would use is one that
 * traps: a parser created without a salt fails loudly instead of hashing with a
 * guessable one. On the host (native backend: no isolation) expat may use the
 * system's getrandom() or /dev/urandom as usual. */
#if defined(__wasi__)
#  include <stddef.h>
#  include <stdio.h>
#  include <stdlib.h>
/* No environment and no stderr in the sandbox: expat's debug switches
 * (EXPAT_*_DEBUG) always read as unset and its debug output is compiled out, so
 * the module imports nothing (no WASI environment or stdio functions). */
#  define getenv(name) ((char *)0)
#  define fprintf(...) ((void)0)
#  define HAVE_ARC4RANDOM_BUF 1
#  define arc4random_buf sandboxlib_expat_no_entropy
static inline void
sandboxlib_expat_no_entropy(void *buf, size_t n) {
  (void)buf;
  (void)n;
  __builtin_trap();
}
#else
#  if defined(__linux__)
#    include <features.h>
#    if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#      define HAVE_GETRANDOM 1
#    endif
#  endif
#  define XML_DEV_URANDOM 1
#endif

#endif /* EXPAT_CONFIG_H */
