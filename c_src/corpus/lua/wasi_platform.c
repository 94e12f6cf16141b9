/* The two C library calls Lua's io and os libraries make that WASI's libc does not
 * have, as a platform without them answers: no shell (os.execute() is false, a
 * command fails) and no temporary files (io.tmpfile() fails). Built for wasm only:
 * the host's libc has both. */
#ifdef __wasi__
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int system(const char *command) {
    if (!command)
        return 0;
    errno = ENOSYS;
    return -1;
}

FILE *tmpfile(void) {
    errno = ENOSYS;
    return NULL;
}
#else
typedef int lua_wasi_platform_unused;
#endif
