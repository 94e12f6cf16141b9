#include "hostile_startup.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t seen_clock = -2, seen_random = -2;
static int32_t blocks;

__attribute__((constructor)) static void hostile_startup(void) {
#if defined(HOSTILE_STARTUP_SPIN)
    volatile int32_t x = 0;
    for (;;) x++;
#elif defined(HOSTILE_STARTUP_FILL)
    static void *volatile last;
    while (blocks < HOSTILE_STARTUP_FILL_MAX) {
        void **block = malloc(HOSTILE_STARTUP_FILL_BLOCK);
        if (block == NULL) break;
        memset(block, 0xA5, HOSTILE_STARTUP_FILL_BLOCK);
        *block = last;
        last = block;
        blocks++;
    }
#endif
    struct timespec ts;
    seen_clock = clock_gettime(CLOCK_REALTIME, &ts) == 0 ? (int64_t)ts.tv_sec : -1;
    uint64_t r;
    seen_random = getentropy(&r, sizeof r) == 0 ? (int64_t)(r >> 1) : -1;
}

int64_t hostile_startup_clock(void) { return seen_clock; }

int64_t hostile_startup_random(void) { return seen_random; }

int32_t hostile_startup_blocks(void) { return blocks; }
