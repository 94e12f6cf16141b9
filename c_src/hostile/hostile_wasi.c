#include "hostile_wasi.h"

#include <string.h>
#include <wasi/api.h>

#define PAGE 65536u

static __wasi_size_t moved;

static void *at(uint32_t address) { return (void *)(uintptr_t)address; }

uint32_t hostile_wasi_memory_size(void) {
    return (uint32_t)(__builtin_wasm_memory_size(0) * PAGE);
}

uint32_t hostile_wasi_reserve(uint32_t bytes) {
    uint32_t pages = bytes / PAGE + (bytes % PAGE != 0);
    size_t old = __builtin_wasm_memory_grow(0, pages);
    if (old == (size_t)-1)
        return 0;
    return (uint32_t)((old + pages) * PAGE - bytes);
}

void hostile_wasi_fill_iovecs(uint32_t address, uint32_t entries, uint32_t buf, uint32_t len) {
    __wasi_ciovec_t *v = at(address);
    for (uint32_t i = 0; i < entries; i++) {
        v[i].buf = at(buf);
        v[i].buf_len = len;
    }
}

int32_t hostile_wasi_fd_write(int32_t fd, uint32_t iovs, uint32_t count) {
    moved = 0;
    return __wasi_fd_write(fd, at(iovs), count, &moved);
}

int32_t hostile_wasi_fd_read(int32_t fd, uint32_t iovs, uint32_t count) {
    moved = 0;
    return __wasi_fd_read(fd, at(iovs), count, &moved);
}

uint32_t hostile_wasi_moved(void) { return moved; }

int32_t hostile_wasi_random_get(uint32_t buf, uint32_t len) {
    return __wasi_random_get(at(buf), len);
}

int32_t hostile_wasi_environ_get(uint32_t pointers, uint32_t buffer) {
    return __wasi_environ_get(at(pointers), at(buffer));
}

int32_t hostile_wasi_prestat_dir_name(int32_t fd, uint32_t buf, uint32_t len) {
    return __wasi_fd_prestat_dir_name(fd, at(buf), len);
}

/* wasi-libc's __wasi_path_open takes a NUL-terminated string; the raw import
   takes a pointer and a length. */
int32_t raw_path_open(int32_t, int32_t, int32_t, int32_t, int32_t,
                                                    int64_t, int64_t, int32_t, int32_t)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")));

int32_t hostile_wasi_path_open(int32_t dirfd, uint32_t path, uint32_t len) {
    __wasi_fd_t fd = 0;
    return raw_path_open(
        dirfd, 0, (int32_t)path, (int32_t)len, 0, __WASI_RIGHTS_FD_READ, __WASI_RIGHTS_FD_READ, 0,
        (int32_t)(uintptr_t)&fd);
}

void hostile_wasi_fill(uint32_t address, uint8_t byte, uint32_t len) {
    memset(at(address), byte, len);
}

int32_t hostile_wasi_loop(uint32_t iovs, uint32_t count, uint32_t n) {
    int32_t e = 0;
    for (uint32_t i = 0; i < n; i++)
        e = hostile_wasi_fd_write(1, iovs, count);
    return e;
}
