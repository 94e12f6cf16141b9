#include "constructs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cn_handle {
    int32_t next;
};

int cn_global_counter;

int32_t cn_sum(const int32_t *values, size_t count) {
    int32_t s = 0;
    for (size_t i = 0; i < count; i++) s += values[i];
    return s;
}
cn_ll cn_wide(cn_ll v) { return v * 3; }
int cn_noreturn_check(int v) { return v + 1; }
int cn_asm_label(int v) { return v - 1; }
void *cn_copy(void *restrict dst, const void *restrict src, size_t n) { return memcpy(dst, src, n); }
void cn_abort_unused(void) { abort(); }
size_t cn_record_size(void) { return sizeof(cn_record); }

void cn_record_fill(cn_record *r) {
    memset(r, 0, sizeof *r);
    r->c = 'R';
    r->wide = -5000000000LL;
    r->shorts[0] = 1; r->shorts[1] = -2; r->shorts[2] = 3;
    r->inner.tag = 7;
    r->inner.value = 2.5;
    r->name = "record";
    r->u.as_float = 1.0f;
    r->pair.lo = 10;
    r->pair.hi = 20;
    r->l = -1;
    r->color = CN_BLUE;
    memcpy(r->bytes, "abcde", 5);
}

cn_handle *cn_handle_new(int32_t start) {
    cn_handle *h = malloc(sizeof *h);
    if (h) h->next = start;
    return h;
}
int32_t cn_handle_next(cn_handle *h) { return h->next++; }
void cn_handle_free(cn_handle *h) { free(h); }

int32_t cn_visit_all(cn_handle *h, int32_t n, cn_visit visit, void *user) {
    int32_t total = 0;
    for (int32_t i = 0; i < n; i++) total += visit(user, cn_handle_next(h));
    return total;
}

cn_color cn_next_color(cn_color c) { return c == CN_RED ? CN_GREEN : CN_BLUE; }
const char *cn_name(void) { return CN_NAME; }

int32_t cn_divmod(int32_t a, int32_t b, int32_t *remainder) {
    *remainder = a % b;
    return a / b;
}

char *cn_join(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *out = malloc(na + nb + 1);
    if (!out) return NULL;
    memcpy(out, a, na);
    memcpy(out + na, b, nb + 1);
    return out;
}

void cn_free(void *p) { free(p); }

int cn_printf(const char *fmt, ...) { (void)fmt; return 0; }
int cn_vprintf(const char *fmt, va_list ap) { (void)fmt; (void)ap; return 0; }
cn_number cn_by_value(cn_number n) { return n; }
long double cn_long_double(long double x) { return x; }

uint32_t cn_checksum(size_t n, const uint8_t data[CN_ARRAY_PARAM(n)]) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum = sum * 31 + data[i];
  return sum;
}

void cn_fill_bytes(size_t n, uint8_t out[static CN_ARRAY_PARAM(n)], uint8_t value) {
  for (size_t i = 0; i < n; i++)
    out[i] = value;
}

int32_t cn_image_area(const cn_image *image) { return image->w * image->h; }

cn_image_ref cn_image_grow(cn_image_ref im, int32_t by) {
  im->w += by;
  im->h += by;
  return im;
}

int32_t cn_cursor_x(cn_cursor cursor) { return cursor->x; }
