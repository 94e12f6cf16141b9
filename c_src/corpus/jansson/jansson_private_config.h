/* jansson's generated private configuration (cmake/jansson_private_config.h.cmake, as
 * configure fills it in for wasm32-wasi: no /dev/urandom, so the hash seed comes from the
 * time and pid, which a sandbox without a clock sees as fixed). */
#define HAVE_STDINT_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define HAVE_INT32_T 1
#define HAVE_UINT32_T 1
#define HAVE_UINT16_T 1
#define HAVE_UINT8_T 1
#define HAVE_SSIZE_T 1
#define HAVE_ATOMIC_BUILTINS 1
#define HAVE_SYNC_BUILTINS 1
#define INITIAL_HASHTABLE_ORDER 3
