#include "tiny.h"

#include <stdarg.h>
#include <stdlib.h>

int tiny_add(int a, int b) { return a + b; }

const char *tiny_name(void) { return "tiny"; }

tiny_u32 tiny_hash(const char *text, unsigned long len) {
    tiny_u32 h = 2166136261u;
    for (unsigned long i = 0; i < len; i++) h = (h ^ (unsigned char)text[i]) * 16777619u;
    return h;
}

int tiny_divmod(int a, int b, int *rem) {
    *rem = a % b;
    return a / b;
}

void tiny_move(struct tiny_point *p, int dx, int dy) {
    p->x += dx;
    p->y += dy;
}

int tiny_each(const int *values, int n, tiny_visit visit, void *user) {
    int total = 0;
    for (int i = 0; i < n; i++) total += visit(user, values[i]);
    return total;
}

enum tiny_mode tiny_mode_of(int v) { return v > TINY_MAX ? TINY_SLOW : TINY_FAST; }

void tiny_free(void *self) { free(self); }

int tiny_sum(int n, ...) {
    va_list ap;
    int total = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) total += va_arg(ap, int);
    va_end(ap);
    return total;
}
