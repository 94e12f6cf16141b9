#include "workload.h"

#include <string.h>

int32_t bench_add(int32_t a, int32_t b) { return a + b; }

size_t bench_echo(const char *in, char *out, size_t cap) {
    size_t n = strlen(in);
    if (n >= cap) n = cap - 1;
    memcpy(out, in, n);
    out[n] = '\0';
    return n;
}

int32_t bench_call_back(bench_cb cb, int32_t v) { return cb(v) + 1; }
