#include "sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int32_t sample_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
int8_t sample_inc_i8(int8_t v) { return (int8_t)(uint8_t)(v + 1); }
uint8_t sample_inc_u8(uint8_t v) { return (uint8_t)(v + 1); }
int16_t sample_inc_i16(int16_t v) { return (int16_t)(uint16_t)(v + 1); }
uint16_t sample_inc_u16(uint16_t v) { return (uint16_t)(v + 1); }
int32_t sample_inc_i32(int32_t v) { return (int32_t)((uint32_t)v + 1u); }
uint32_t sample_inc_u32(uint32_t v) { return v + 1u; }
int64_t sample_inc_i64(int64_t v) { return (int64_t)((uint64_t)v + 1u); }
uint64_t sample_inc_u64(uint64_t v) { return v + 1u; }
long sample_negate_long(long v) { return -v; }
unsigned long sample_ulong_max(void) { return (unsigned long)-1; }
bool sample_is_even(int32_t v) { return (v & 1) == 0; }
char sample_char_at(const char *s, size_t i) { return s[i]; }

float sample_scale(float x, float k) { return x * k; }
double sample_hypot(double a, double b) { return sqrt(a * a + b * b); }

size_t sample_strlen(const char *s) { return strlen(s); }

char *sample_greet(const char *name) {
    static const char prefix[] = "Hello, ";
    size_t n = strlen(name);
    if (n > SAMPLE_NAME_MAX) n = SAMPLE_NAME_MAX;
    char *out = malloc(sizeof prefix + n + 1);
    if (!out) return NULL;
    memcpy(out, prefix, sizeof prefix - 1);
    memcpy(out + sizeof prefix - 1, name, n);
    out[sizeof prefix - 1 + n] = '!';
    out[sizeof prefix + n] = '\0';
    return out;
}

const char *sample_version_string(void) { return "sample 3"; }
void sample_free(void *p) { free(p); }

void sample_fill(uint8_t *buf, size_t len, uint8_t value) { memset(buf, value, len); }

uint32_t sample_checksum(const uint8_t *data, size_t len) {
    uint32_t a = 1, b = 0; /* Adler-32 */
    for (size_t i = 0; i < len; i++) {
        a = (a + data[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

void sample_point_init(sample_point *p, int32_t x, int32_t y, double weight) {
    p->x = x;
    p->y = y;
    p->weight = weight;
    p->label = "init";
}

double sample_point_norm(const sample_point *p) {
    return p->weight * sqrt((double)p->x * p->x + (double)p->y * p->y);
}

sample_point *sample_point_new(int32_t x, int32_t y, const char *label) {
    sample_point *p = malloc(sizeof *p);
    if (!p) return NULL;
    sample_point_init(p, x, y, 1.0);
    p->label = label ? strdup(label) : NULL;
    return p;
}

int32_t sample_fold(const int32_t *values, size_t n, sample_binop op, int32_t init) {
    int32_t acc = init;
    for (size_t i = 0; i < n; i++) acc = op(acc, values[i]);
    return acc;
}
