/* The benchmark workload: small functions whose cost is the boundary, not the work. */
#ifndef SANDBOXLIB_BENCH_WORKLOAD_H
#define SANDBOXLIB_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t (*bench_cb)(int32_t v);

int32_t bench_add(int32_t a, int32_t b);
size_t bench_echo(const char *in, char *out, size_t cap);
int32_t bench_call_back(bench_cb cb, int32_t v);

#endif
