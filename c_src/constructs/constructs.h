/* constructs: every C construct the code generator handles, and the ones it skips.
 * Written for sandboxlib's generator tests; the layouts are checked against the
 * wasm32 compiler's own offsetof/sizeof. */
#ifndef CONSTRUCTS_H
#define CONSTRUCTS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define CN_ANSWER 42
#define CN_HEX 0x7fffffffu
#define CN_NEG (-17)
#define CN_SHIFT (1 << 12)
#define CN_DERIVED (CN_ANSWER * 2 + CN_SHIFT)
#define CN_LONG 1234567890123LL
#define CN_NAME "constructs"
#define CN_RATIO 0.25
#define CN_CAST ((int)8)
#define CN_FUNCLIKE(x) ((x) + 1)

typedef enum cn_color { CN_RED, CN_GREEN = 5, CN_BLUE } cn_color;
enum { CN_ANON_A = 100, CN_ANON_B };

typedef struct cn_handle cn_handle; /* opaque: declared, never defined */

typedef int32_t (*cn_visit)(void *user, int32_t value);

struct cn_inner {
    uint8_t tag;
    double value;
};

typedef struct cn_record {
    char c;
    int64_t wide;
    int16_t shorts[3];
    struct cn_inner inner;
    const char *name;
    union {
        float as_float;
        uint32_t as_bits;
    } u;
    struct {
        uint16_t lo, hi;
    } pair;
    long l;
    cn_color color;
    cn_visit visit;
    unsigned char bytes[5];
} cn_record;

typedef union cn_number {
    int8_t small;
    uint64_t big;
    double real;
} cn_number;

struct cn_bits {
    unsigned a : 3;
    unsigned b : 5;
};

/* GNU extensions real headers use */
__extension__ typedef long long cn_ll;
extern int cn_noreturn_check(int) __attribute__((__const__));
int cn_asm_label(int v) __asm__("cn_asm_label");
void *cn_copy(void *__restrict dst, const void *__restrict src, size_t n);
static inline int cn_inline_twice(int v) { return v * 2; }
_Noreturn void cn_abort_unused(void);

/* proxied */
int32_t cn_sum(const int32_t *values, size_t count);
cn_ll cn_wide(cn_ll v);
int cn_noreturn_check(int v);
size_t cn_record_size(void);
void cn_record_fill(cn_record *r);
cn_handle *cn_handle_new(int32_t start);
int32_t cn_handle_next(cn_handle *h);
void cn_handle_free(cn_handle *h);
int32_t cn_visit_all(cn_handle *h, int32_t n, cn_visit visit, void *user);
cn_color cn_next_color(cn_color c);
const char *cn_name(void);
int32_t cn_divmod(int32_t a, int32_t b, int32_t *remainder);
char *cn_join(const char *a, const char *b);
void cn_free(void *p);

/* skipped, each with a warning */
int cn_printf(const char *fmt, ...);
int cn_vprintf(const char *fmt, va_list ap);
cn_number cn_by_value(cn_number n);
long double cn_long_double(long double x);
extern int cn_global_counter;

/* Array parameters are pointers whatever their declared size, even one no constant
   gives (a length that names another parameter, as libraries spell it by a macro). */
#define CN_ARRAY_PARAM(n) n
uint32_t cn_checksum(size_t n, const uint8_t data[CN_ARRAY_PARAM(n)]);
void cn_fill_bytes(size_t n, uint8_t out[static CN_ARRAY_PARAM(n)], uint8_t value);

/* An unnamed struct is one class, named after the typedef that declares it (its
   first name); one reached only through a pointer typedef is NAME_target. */
typedef struct {
    int32_t w, h;
} cn_image, *cn_image_ref;
typedef struct {
    int32_t x;
} *cn_cursor;
int32_t cn_image_area(const cn_image *image);
cn_image_ref cn_image_grow(cn_image_ref im, int32_t by);
int32_t cn_cursor_x(cn_cursor cursor);

#endif
