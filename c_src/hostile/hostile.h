/* hostile: C written to misbehave, compiled to wasm like any library.
 * Every function here attacks the sandbox boundary or the host's resources
 * (the echo and record functions give the property tests honest counterparts).
 * hostile_abi.c defines the hostile_raw_* functions with types that differ from
 * these declarations, as a module built by an attacker would. */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t (*hostile_cb)(int32_t v);
typedef int32_t (*hostile_data_cb)(const uint8_t *data, uint32_t len);
typedef int32_t (*hostile_user_cb)(void *user, int32_t v);

/* A pointer and a length, both chosen by the library. */
struct hostile_blob {
    const uint8_t *data;
    uint32_t len;
};

struct hostile_node {
    int32_t tag;
    char *name;
    struct hostile_node *next;
    struct hostile_blob blob;
};

/* One field of every kind the generator maps. */
struct hostile_record {
    int8_t i8;
    uint8_t u8;
    int16_t i16;
    uint16_t u16;
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    long l;
    unsigned long ul;
    float f;
    double d;
    bool b;
    char c;
    char *text;
    hostile_cb fn;
    struct hostile_blob blob;
    char name[8];
    int16_t shorts[3];
};

/* which blob hostile_blob() returns */
#define HOSTILE_BLOB_GOOD 0
#define HOSTILE_BLOB_CROSSES_END 1
#define HOSTILE_BLOB_HUGE_LENGTH 2
#define HOSTILE_BLOB_WRAPS 3
#define HOSTILE_BLOB_NULL 4
#define HOSTILE_BLOB_COUNT_OVERFLOW 5
#define HOSTILE_BLOB_SHARED 6

/* original attacks (also declared by hand in tests/libs.py) */
int32_t hostile_ok(int32_t v);
int32_t hostile_unreachable(void);
int32_t hostile_read_far(uint32_t address);
int32_t hostile_divide(int32_t a, int32_t b);
int32_t hostile_spin(void);
int32_t hostile_recurse(int32_t depth);
int32_t hostile_malloc_bomb(uint32_t chunk);
int32_t hostile_print(const char *text);
int32_t hostile_read_file(const char *path, char *out, int32_t cap);
int64_t hostile_clock(void);
int32_t hostile_random(void);
const char *hostile_getenv(const char *name);
char *hostile_wild_pointer(void);
char *hostile_pointer_near_end(void);
char *hostile_unterminated(void);
int32_t hostile_call(hostile_cb cb, int32_t v);
int32_t hostile_call_slot(uint32_t slot, int32_t v);

/* capabilities beyond the original ones */
int32_t hostile_eprint(const char *text);
int32_t hostile_read_stdin(char *out, int32_t cap);
int32_t hostile_write_file(const char *path, const char *text);

/* pointers, lengths and strings */
char *hostile_pointer_at_end(void);
const struct hostile_blob *hostile_blob(int32_t which);
int32_t hostile_negative_size(void);
char *hostile_long_string(uint32_t n);
struct hostile_node *hostile_wild_node(void);
struct hostile_node *hostile_node_at_end(void);
char *hostile_stack_pointer(void);
int32_t hostile_clobber_stack(int32_t fill);
char *hostile_freed_pointer(void);
int32_t hostile_scribble(void);
int32_t hostile_overflow_arg(const char *text, uint32_t extra);
float hostile_float_bits(uint32_t bits);
double hostile_double_bits(uint64_t bits);

/* traps and resources */
int32_t hostile_abort(void);
/* traps (0 unreachable, 1 division by zero, 2 out of bounds) two static calls down */
int32_t hostile_deep_trap(int32_t how, int32_t zero);
int32_t hostile_exit(int32_t status);
int32_t hostile_recurse_shadow(int32_t depth);
int32_t hostile_grow_max(void);

/* callbacks */
void hostile_store_cb(hostile_cb cb);
int32_t hostile_call_stored(int32_t v);
int32_t hostile_call_wrong_type(hostile_cb cb);
int32_t hostile_call_data(hostile_data_cb cb, int32_t which);
int32_t hostile_call_user(hostile_user_cb cb, void *user, int32_t forge);
/* first(v), then the stored callback: first may close the sandbox in between */
int32_t hostile_call_then_stored(hostile_cb first, int32_t v);
/* keeps v in its memory, calls cb(v), and returns what it kept, read after the call */
int32_t hostile_keep_across(hostile_cb cb, int32_t v);

/* the function table, grown and copied by the library itself */
int32_t hostile_table_size(void);
int32_t hostile_table_grow(uint32_t n);
int64_t hostile_table_bomb(uint32_t chunk);
int32_t hostile_table_copy_slot(uint32_t from);

/* host handles seen as pointers */
void *hostile_echo_ptr(void *p);
void *hostile_forge(void *p, int32_t delta);

/* honest echoes of every scalar type, and records filled by the library */
int8_t hostile_echo_i8(int8_t v);
uint8_t hostile_echo_u8(uint8_t v);
int16_t hostile_echo_i16(int16_t v);
uint16_t hostile_echo_u16(uint16_t v);
int32_t hostile_echo_i32(int32_t v);
uint32_t hostile_echo_u32(uint32_t v);
int64_t hostile_echo_i64(int64_t v);
uint64_t hostile_echo_u64(uint64_t v);
long hostile_echo_long(long v);
unsigned long hostile_echo_ulong(unsigned long v);
size_t hostile_echo_size(size_t v);
char hostile_echo_char(char v);
bool hostile_echo_bool(bool v);
float hostile_echo_float(float v);
double hostile_echo_double(double v);
void hostile_record_fill(struct hostile_record *r, int8_t i8, uint8_t u8, int16_t i16,
                         uint16_t u16, int32_t i32, uint32_t u32, int64_t i64, uint64_t u64,
                         float f, double d, bool b, char c);
void hostile_record_scramble(struct hostile_record *r, const uint8_t *bytes, uint32_t n);

/* results the library returns outside their C type (defined in hostile_abi.c) */
int8_t hostile_raw_i8(uint32_t raw);
uint8_t hostile_raw_u8(uint32_t raw);
int16_t hostile_raw_i16(uint32_t raw);
uint16_t hostile_raw_u16(uint32_t raw);
char hostile_raw_char(uint32_t raw);
bool hostile_raw_bool(uint32_t raw);
int32_t hostile_wrong_export(int32_t v);

#endif
