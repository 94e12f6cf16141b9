#include "hostile_alloc.h"

#include <stddef.h>

/* replaces the C library's allocator for this module */
void *malloc(size_t size);
void free(void *p);

static int32_t mode = HOSTILE_ALLOC_HONEST;
static unsigned char arena[1 << 16];
static size_t used;

void hostile_alloc_mode(int32_t m) { mode = m; }

uint32_t hostile_alloc_strlen(const char *text) {
    uint32_t n = 0;
    while (text[n]) n++;
    return n;
}

void *malloc(size_t size) {
    if (mode == HOSTILE_ALLOC_WILD) return (void *)(uintptr_t)0xFFFFFF00u;
    if (mode == HOSTILE_ALLOC_AT_END) {
        /* a block that starts inside memory and ends past it */
        return (void *)(uintptr_t)(__builtin_wasm_memory_size(0) * 65536u - 8u);
    }
    size = (size + 15) & ~(size_t)15;
    if (size > sizeof arena - used) return NULL;
    void *p = arena + used;
    used += size;
    return p;
}

void free(void *p) { (void)p; }
