#include "hostile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int32_t hostile_ok(int32_t v) { return v * 2; }

int32_t hostile_unreachable(void) { __builtin_trap(); }

int32_t hostile_read_far(uint32_t address) { return *(volatile int32_t *)(uintptr_t)address; }

int32_t hostile_divide(int32_t a, int32_t b) { return a / b; }

int32_t hostile_spin(void) {
    volatile int32_t x = 0;
    for (;;) x++;
    return x;
}

int32_t hostile_recurse(int32_t depth) {
    volatile char pad[256];
    pad[0] = (char)depth;
    return hostile_recurse(depth + 1) + pad[0];
}

int32_t hostile_malloc_bomb(uint32_t chunk) {
    /* keep every block reachable so the compiler cannot elide the allocations */
    static void *volatile last;
    int32_t count = 0;
    for (;;) {
        void **block = malloc(chunk < sizeof(void *) ? sizeof(void *) : chunk);
        if (block == NULL) return count;
        *block = last;
        last = block;
        count++;
    }
}

int32_t hostile_print(const char *text) {
    int n = printf("%s\n", text);
    fflush(stdout);
    return n;
}

int32_t hostile_read_file(const char *path, char *out, int32_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(out, 1, (size_t)cap, f);
    fclose(f);
    return (int32_t)n;
}

int64_t hostile_clock(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec;
}

int32_t hostile_random(void) {
    unsigned char b[4];
    if (getentropy(b, sizeof b) != 0) return -1;
    return 1;
}

const char *hostile_getenv(const char *name) { return getenv(name); }

char *hostile_wild_pointer(void) { return (char *)(uintptr_t)0xFFFFFFF0u; }

char *hostile_pointer_near_end(void) {
    /* the last 4 bytes of memory, filled with non-NUL bytes */
    uint32_t end = (uint32_t)(__builtin_wasm_memory_size(0) * 65536u);
    memset((char *)(uintptr_t)(end - 4u), 'A', 4);
    return (char *)(uintptr_t)(end - 4u);
}

char *hostile_unterminated(void) {
    size_t n = 4096;
    char *p = malloc(n);
    memset(p, 'A', n);
    return p;
}

int32_t hostile_call(hostile_cb cb, int32_t v) { return cb(v); }

int32_t hostile_call_slot(uint32_t slot, int32_t v) {
    hostile_cb cb = (hostile_cb)(uintptr_t)slot;
    return cb(v);
}

/* -- capabilities -------------------------------------------------------------- */

int32_t hostile_eprint(const char *text) {
    int n = fprintf(stderr, "%s\n", text);
    fflush(stderr);
    return n;
}

int32_t hostile_read_stdin(char *out, int32_t cap) {
    ssize_t n = read(0, out, (size_t)cap);
    return (int32_t)n;
}

int32_t hostile_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(text, 1, strlen(text), f);
    if (fclose(f) != 0) return -1;
    return (int32_t)n;
}

/* -- pointers, lengths and strings ------------------------------------------ */

static uint32_t memory_end(void) { return (uint32_t)(__builtin_wasm_memory_size(0) * 65536u); }

char *hostile_pointer_at_end(void) { return (char *)(uintptr_t)memory_end(); }

static const uint8_t good_data[] = "good data";
static uint8_t shared[8] = "good";

const struct hostile_blob *hostile_blob(int32_t which) {
    static struct hostile_blob blob;
    blob.data = good_data;
    blob.len = sizeof good_data - 1;
    switch (which) {
    case HOSTILE_BLOB_CROSSES_END:
        blob.data = (const uint8_t *)(uintptr_t)(memory_end() - 16u);
        blob.len = 64;
        break;
    case HOSTILE_BLOB_HUGE_LENGTH: blob.len = 0xFFFFFFFFu; break;
    case HOSTILE_BLOB_WRAPS:
        /* 0xFFFFFFF0 + 0x20 wraps to 0x10 in 32-bit arithmetic */
        blob.data = (const uint8_t *)(uintptr_t)0xFFFFFFF0u;
        blob.len = 0x20;
        break;
    case HOSTILE_BLOB_NULL: blob.data = NULL; blob.len = 16; break;
    case HOSTILE_BLOB_COUNT_OVERFLOW:
        /* a count of int32_t items: count * 4 wraps to 4 in 32-bit arithmetic */
        blob.len = 0x40000001u;
        break;
    case HOSTILE_BLOB_SHARED: blob.data = shared; blob.len = 4; break;
    default: break;
    }
    return &blob;
}

int32_t hostile_negative_size(void) { return -1; }

char *hostile_long_string(uint32_t n) {
    char *p = malloc((size_t)n + 1);
    if (!p) return NULL;
    memset(p, 'B', n);
    p[n] = '\0';
    return p;
}

struct hostile_node *hostile_wild_node(void) {
    static struct hostile_node node;
    node.tag = 7;
    node.name = (char *)(uintptr_t)0xDEADBEEFu;
    node.next = (struct hostile_node *)(uintptr_t)0xFFFFFFF8u;
    node.blob.data = (const uint8_t *)(uintptr_t)0x7FFFFFFFu;
    node.blob.len = 0x1000;
    return &node;
}

struct hostile_node *hostile_node_at_end(void) {
    return (struct hostile_node *)(uintptr_t)(memory_end() - 8u);
}

/* The address escapes through a volatile global so the compiler keeps the frame
 * in linear memory and returns the real (soon dangling) address. */
static char *volatile escaped_frame;

char *hostile_stack_pointer(void) {
    char frame[32];
    strcpy(frame, "secret");
    escaped_frame = frame;
    return escaped_frame;
}

int32_t hostile_clobber_stack(int32_t fill) {
    volatile char frame[512];
    for (int i = 0; i < 512; i++) frame[i] = (char)fill;
    return frame[fill & 511];
}

char *hostile_freed_pointer(void) {
    char *p = malloc(64);
    strcpy(p, "secret");
    free(p);
    return p;
}

int32_t hostile_scribble(void) {
    memcpy(shared, "evil", 4);
    return 4;
}

/* Writes through a const pointer, and `extra` bytes past the string's end. */
int32_t hostile_overflow_arg(const char *text, uint32_t extra) {
    size_t n = strlen(text) + extra;
    memset((char *)text, 'X', n);
    return (int32_t)n;
}

float hostile_float_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

double hostile_double_bits(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* -- traps and resources ----------------------------------------------------- */

int32_t hostile_abort(void) { abort(); }

int32_t hostile_exit(int32_t status) { exit(status); }

/* Each frame keeps 4 KiB in linear memory: this exhausts the shadow stack. */
int32_t hostile_recurse_shadow(int32_t depth) {
    char frame[4096];
    memset(frame, (char)depth, sizeof frame);
    escaped_frame = frame;
    return hostile_recurse_shadow(depth + 1) + escaped_frame[depth & 4095];
}

int32_t hostile_grow_max(void) {
    /* ask for the whole 4 GiB at once, then page by page until refused */
    if (__builtin_wasm_memory_grow(0, 65535) != (size_t)-1) return -1;
    int32_t pages = 0;
    while (__builtin_wasm_memory_grow(0, 1) != (size_t)-1) pages++;
    return pages;
}

/* -- callbacks --------------------------------------------------------------- */

static hostile_cb stored;

void hostile_store_cb(hostile_cb cb) { stored = cb; }

int32_t hostile_call_stored(int32_t v) { return stored(v); }

int32_t hostile_call_then_stored(hostile_cb first, int32_t v) {
    first(v);
    return stored(v);
}

static volatile int32_t kept_across;

int32_t hostile_keep_across(hostile_cb cb, int32_t v) {
    kept_across = v;
    cb(v);
    return kept_across;
}

/* -- the function table ------------------------------------------------------ */

#define HOSTILE_REFTYPES __attribute__((target("reference-types")))

HOSTILE_REFTYPES int32_t hostile_table_size(void) {
    int32_t r;
    __asm__ volatile("table.size __indirect_function_table\n"
                     "local.set %0\n" : "=r"(r));
    return r;
}

/* table.grow by n empty slots: the old size, or -1 if refused */
HOSTILE_REFTYPES int32_t hostile_table_grow(uint32_t n) {
    int32_t r;
    __asm__ volatile("ref.null_func\n"
                     "local.get %1\n"
                     "table.grow __indirect_function_table\n"
                     "local.set %0\n" : "=r"(r) : "r"(n));
    return r;
}

/* grow by chunk until refused: the elements gained */
int64_t hostile_table_bomb(uint32_t chunk) {
    int64_t total = 0;
    while (hostile_table_grow(chunk) != -1) total += chunk;
    return total;
}

/* a new slot holding what slot `from` holds (a callback the host may later remove) */
HOSTILE_REFTYPES int32_t hostile_table_copy_slot(uint32_t from) {
    int32_t r;
    __asm__ volatile("local.get %1\n"
                     "table.get __indirect_function_table\n"
                     "i32.const 1\n"
                     "table.grow __indirect_function_table\n"
                     "local.set %0\n" : "=r"(r) : "r"(from));
    return r;
}

typedef int64_t (*hostile_other_cb)(int64_t a, double b);

int32_t hostile_call_wrong_type(hostile_cb cb) {
    hostile_other_cb other = (hostile_other_cb)(uintptr_t)cb;
    return (int32_t)other(1, 2.0);
}

int32_t hostile_call_data(hostile_data_cb cb, int32_t which) {
    const struct hostile_blob *b = hostile_blob(which);
    return cb(b->data, b->len);
}

int32_t hostile_call_user(hostile_user_cb cb, void *user, int32_t forge) {
    return cb((char *)user + forge, 1);
}

/* -- host handles -------------------------------------------------------------- */

void *hostile_echo_ptr(void *p) { return p; }

void *hostile_forge(void *p, int32_t delta) { return (char *)p + delta; }

/* -- honest echoes and records ------------------------------------------------ */

#define ECHO(name, type) \
    type hostile_echo_##name(type v) { return v; }
ECHO(i8, int8_t)
ECHO(u8, uint8_t)
ECHO(i16, int16_t)
ECHO(u16, uint16_t)
ECHO(i32, int32_t)
ECHO(u32, uint32_t)
ECHO(i64, int64_t)
ECHO(u64, uint64_t)
ECHO(long, long)
ECHO(ulong, unsigned long)
ECHO(size, size_t)
ECHO(char, char)
ECHO(bool, bool)
ECHO(float, float)
ECHO(double, double)

void hostile_record_fill(struct hostile_record *r, int8_t i8, uint8_t u8, int16_t i16,
                         uint16_t u16, int32_t i32, uint32_t u32, int64_t i64, uint64_t u64,
                         float f, double d, bool b, char c) {
    r->i8 = i8; r->u8 = u8; r->i16 = i16; r->u16 = u16; r->i32 = i32; r->u32 = u32;
    r->i64 = i64; r->u64 = u64; r->l = i32; r->ul = u32; r->f = f; r->d = d; r->b = b;
    r->c = c;
}

void hostile_record_scramble(struct hostile_record *r, const uint8_t *bytes, uint32_t n) {
    memcpy(r, bytes, n < sizeof *r ? n : sizeof *r);
}

/* A trap two calls below the export: the error names the function it happened in. */
static int32_t hostile_scratch[1024];

__attribute__((noinline)) static int32_t hostile_inner_fault(int32_t how, int32_t zero) {
    switch (how) {
    case 0: __builtin_trap();
    case 1: return 7 / zero;
    case 2: return *(volatile int32_t *)(uintptr_t)(0xFFFFFFF0u + (uint32_t)zero);
    case 3: /* memory.fill past the end */
        memset((void *)(uintptr_t)(0xFFFFF000u + (uint32_t)zero), 0, 8192u + (uint32_t)zero);
        return 0;
    default: /* memory.copy from past the end */
        memcpy(&hostile_scratch, (const void *)(uintptr_t)(0xFFFFF000u + (uint32_t)zero),
               sizeof hostile_scratch + (uint32_t)zero);
        return hostile_scratch[0];
    }
}

__attribute__((noinline)) static int32_t hostile_middle_frame(int32_t how, int32_t zero) {
    return hostile_inner_fault(how, zero) + 1;
}

int32_t hostile_deep_trap(int32_t how, int32_t zero) { return hostile_middle_frame(how, zero) + 1; }
