/* hostile: C written to misbehave, compiled to wasm like any library.
 * Every function here attacks the sandbox boundary or the host's resources. */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t (*hostile_cb)(int32_t v);

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
uint32_t hostile_wild_pointer(void);
uint32_t hostile_pointer_near_end(void);
char *hostile_unterminated(void);
int32_t hostile_call(hostile_cb cb, int32_t v);
int32_t hostile_call_slot(uint32_t slot, int32_t v);

#endif
