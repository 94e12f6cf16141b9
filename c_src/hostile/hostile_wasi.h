/* hostile_wasi: a library that makes the host work hard inside WASI calls.
 * It calls WASI directly with arguments a C library would never pass: huge
 * iovec counts and lengths, pointers at or past the end of memory, and loops of
 * cheap calls. Addresses are plain numbers (offsets into the sandbox's memory),
 * so a test can aim them anywhere. Each hostile_wasi_<call> returns the WASI
 * errno the call answered (0 for success). */
#ifndef HOSTILE_WASI_H
#define HOSTILE_WASI_H

#include <stdint.h>

/* The size of the sandbox's memory now, in bytes. */
uint32_t hostile_wasi_memory_size(void);

/* Grow the memory by `bytes` (rounded up to pages) and return where the new,
   zeroed, bytes start: the last `bytes` of memory are then the library's own.
   0 if the memory cannot grow. */
uint32_t hostile_wasi_reserve(uint32_t bytes);

/* Write `entries` iovecs {buf, len} at `at` (all pointing at one buffer). */
void hostile_wasi_fill_iovecs(uint32_t at, uint32_t entries, uint32_t buf, uint32_t len);

/* fd_write / fd_read of `count` iovecs at `iovs`; the byte count the call
   reported is kept for hostile_wasi_moved(). */
int32_t hostile_wasi_fd_write(int32_t fd, uint32_t iovs, uint32_t count);
int32_t hostile_wasi_fd_read(int32_t fd, uint32_t iovs, uint32_t count);
uint32_t hostile_wasi_moved(void);

int32_t hostile_wasi_random_get(uint32_t buf, uint32_t len);
int32_t hostile_wasi_environ_get(uint32_t pointers, uint32_t buffer);
int32_t hostile_wasi_prestat_dir_name(int32_t fd, uint32_t buf, uint32_t len);
/* path_open(dirfd, path = [path, path + len), read rights) */
int32_t hostile_wasi_path_open(int32_t dirfd, uint32_t path, uint32_t len);

/* Write `byte` into `len` bytes at `at` (to build long paths). */
void hostile_wasi_fill(uint32_t at, uint8_t byte, uint32_t len);

/* `n` calls hostile_wasi_fd_write(1, iovs, count) in a tight loop; the errno of
   the last (a time limit should end it first). */
int32_t hostile_wasi_loop(uint32_t iovs, uint32_t count, uint32_t n);

#endif
