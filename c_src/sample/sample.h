/* sample: a small library written for sandboxlib's tests and demo.
 * It exercises integers of every width and sign, floats, strings in and out,
 * buffers, a struct and a callback. */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLE_VERSION 3
#define SAMPLE_NAME_MAX 64

typedef struct sample_point {
    int32_t x;
    int32_t y;
    double weight;
    const char *label;
} sample_point;

typedef int32_t (*sample_binop)(int32_t a, int32_t b);

int32_t sample_add(int32_t a, int32_t b);
int8_t sample_inc_i8(int8_t v);
uint8_t sample_inc_u8(uint8_t v);
int16_t sample_inc_i16(int16_t v);
uint16_t sample_inc_u16(uint16_t v);
int32_t sample_inc_i32(int32_t v);
uint32_t sample_inc_u32(uint32_t v);
int64_t sample_inc_i64(int64_t v);
uint64_t sample_inc_u64(uint64_t v);
long sample_negate_long(long v);
unsigned long sample_ulong_max(void);
bool sample_is_even(int32_t v);
char sample_char_at(const char *s, size_t i);

float sample_scale(float x, float k);
double sample_hypot(double a, double b);

size_t sample_strlen(const char *s);
char *sample_greet(const char *name);
const char *sample_version_string(void);
void sample_free(void *p);

void sample_fill(uint8_t *buf, size_t len, uint8_t value);
uint32_t sample_checksum(const uint8_t *data, size_t len);

void sample_point_init(sample_point *p, int32_t x, int32_t y, double weight);
double sample_point_norm(const sample_point *p);
sample_point *sample_point_new(int32_t x, int32_t y, const char *label);

int32_t sample_fold(const int32_t *values, size_t n, sample_binop op, int32_t init);

#endif
