/* realistic.h: a small library written the way real ones are (lz4, sqlite3), for
   tests/test_real_headers.py. It has what wrapping real headers ran into:
   - a struct with exactly one field (lz4's LZ4_stream_t-style state holder);
   - functions the header declares but the given sources do not define: one whose
     definition is compiled only under a configuration macro (sqlite3's
     SQLITE_OMIT_* / SQLITE_ENABLE_* APIs), one whose source file is not given
     (lz4frame.h's functions live in lz4frame.c);
   - a function-type typedef used as a pointer (sqlite3's `sqlite3_syscall_ptr`,
     zlib's `in_func` style): typedef int rl_handler(void *, int);
   - a struct of callbacks (sqlite3_io_methods);
   - out-parameters: an in/out length (`size_t *dstSize`, as lz4frame's and zstd's)
     and a handle returned through `T **` (sqlite3_open's);
   - an argument the library keeps past the call, and pointer-valued macros that say
     how (sqlite3_bind_text with SQLITE_STATIC / SQLITE_TRANSIENT). */
#ifndef REALISTIC_H
#define REALISTIC_H

#include <stddef.h>

#if defined(_WIN32) && defined(RL_DLL_EXPORT)
#  define RLAPI __declspec(dllexport)
#elif defined(__GNUC__)
#  define RLAPI __attribute__((visibility("default")))
#else
#  define RLAPI
#endif

#define RL_VERSION_MAJOR 1
#define RL_VERSION_MINOR 4
#define RL_VERSION_NUMBER (RL_VERSION_MAJOR * 100 + RL_VERSION_MINOR)

/* A state holder with exactly one field. */
typedef struct rl_state_s {
    int level;
} rl_state;

/* A function type (not a pointer type): used as `rl_handler *`. */
typedef int rl_handler(void *data, int n);

/* A function-pointer typedef. */
typedef void (*rl_log_fn)(void *user, int code);

/* Methods of a file-like object, set by the caller. */
struct rl_io_methods {
    int version;
    int (*xRead)(void *file, int amount, int offset);
    int (*xClose)(void *file);
    rl_log_fn xLog;
};

RLAPI int rl_version_number(void);
RLAPI void rl_state_init(rl_state *state, int level);
RLAPI int rl_state_level(const rl_state *state);
RLAPI int rl_for_each(const int *values, int n, rl_handler *handler, void *data);
RLAPI int rl_io_read(const struct rl_io_methods *methods, void *file, int amount, int offset);
RLAPI int rl_io_close(const struct rl_io_methods *methods, void *file);

/* Copies src to dst (reversed) if *dstSize, the room in dst, allows; sets *dstSize to
   the bytes written (or needed). Returns 0, or -1 if dst is too small. */
RLAPI int rl_encode(const char *src, size_t srcSize, char *dst, size_t *dstSize);

/* A new state of `level` through *out; 0, or -1 without memory. */
RLAPI int rl_open(int level, rl_state **out);
RLAPI void rl_close(rl_state *state);

/* An enum parameter (zstd's ZSTD_cParameter, sqlite's limits). */
typedef enum rl_mode { RL_FAST = 1, RL_SMALL = 2 } rl_mode;
RLAPI int rl_set_mode(rl_state *state, rl_mode mode);

/* How rl_keep_text treats its text: keep the pointer, or copy the text now. */
typedef void (*rl_destructor)(void *);
#define RL_STATIC ((rl_destructor)0)
#define RL_TRANSIENT ((rl_destructor)-1)

/* Remembers `text` (the pointer with RL_STATIC, a copy with RL_TRANSIENT); returns 1
   if it copied. rl_kept() gives the text remembered, read now. */
RLAPI int rl_keep_text(const char *text, rl_destructor how);
RLAPI const char *rl_kept(void);

/* Compiled only with -DRL_ENABLE_TRACE (the header declares it unless RL_OMIT_TRACE). */
#ifndef RL_OMIT_TRACE
RLAPI int rl_trace(int mask, rl_log_fn log, void *user);
#endif

/* Defined in realistic_hc.c, which a minimal build leaves out. */
RLAPI int rl_compress_hc(const char *src, char *dst, int size, int level);

#endif
