/* pcre2's config.h (config-cmake.h.in) as CMake fills it in by default for
 * wasm32-wasi: the 8-bit library with Unicode support, no JIT. */
#define HAVE_MEMMOVE 1
#define HAVE_STRERROR 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define SUPPORT_PCRE2_8 1
#define SUPPORT_UNICODE 1
#define HEAP_LIMIT 20000000
#define LINK_SIZE 2
#define MATCH_LIMIT 10000000
#define MATCH_LIMIT_DEPTH MATCH_LIMIT
#define MAX_NAME_COUNT 10000
#define MAX_NAME_SIZE 32
#define NEWLINE_DEFAULT 2
#define PARENS_NEST_LIMIT 250
#define PCRE2GREP_BUFSIZE 20480
#define PCRE2GREP_MAX_BUFSIZE 1048576
