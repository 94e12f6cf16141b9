#include "hostile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int32_t hostile_ok(int32_t v) { return v * 2; }

int32_t hostile_unreachable(void) { __builtin_trap(); }

int32_t hostile_read_far(uint32_t address) { return *(volatile int32_t *)(uintptr_t)address; }

int32_t hostile_divide(int32_t a, int32_t b) { return a / b; }

int32_t hostile_spin(void) {
    volatile int32_t x = 0;
    for (;;) x++;
    return x;
}

int32_t hostile_recurse(int32_t depth) {
    volatile char pad[256];
    pad[0] = (char)depth;
    return hostile_recurse(depth + 1) + pad[0];
}

int32_t hostile_malloc_bomb(uint32_t chunk) {
    /* keep every block reachable so the compiler cannot elide the allocations */
    static void *volatile last;
    int32_t count = 0;
    for (;;) {
        void **block = malloc(chunk < sizeof(void *) ? sizeof(void *) : chunk);
        if (block == NULL) return count;
        *block = last;
        last = block;
        count++;
    }
}

int32_t hostile_print(const char *text) {
    int n = printf("%s\n", text);
    fflush(stdout);
    return n;
}

int32_t hostile_read_file(const char *path, char *out, int32_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(out, 1, (size_t)cap, f);
    fclose(f);
    return (int32_t)n;
}

int64_t hostile_clock(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec;
}

int32_t hostile_random(void) {
    unsigned char b[4];
    if (getentropy(b, sizeof b) != 0) return -1;
    return 1;
}

const char *hostile_getenv(const char *name) { return getenv(name); }

uint32_t hostile_wild_pointer(void) { return 0xFFFFFFF0u; }

uint32_t hostile_pointer_near_end(void) {
    /* the last 4 bytes of memory, filled with non-NUL bytes */
    uint32_t end = (uint32_t)(__builtin_wasm_memory_size(0) * 65536u);
    memset((char *)(uintptr_t)(end - 4u), 'A', 4);
    return end - 4u;
}

char *hostile_unterminated(void) {
    size_t n = 4096;
    char *p = malloc(n);
    memset(p, 'A', n);
    return p;
}

int32_t hostile_call(hostile_cb cb, int32_t v) { return cb(v); }

int32_t hostile_call_slot(uint32_t slot, int32_t v) {
    hostile_cb cb = (hostile_cb)(uintptr_t)slot;
    return cb(v);
}
