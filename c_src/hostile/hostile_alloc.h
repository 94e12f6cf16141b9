/* hostile_alloc: a library whose own malloc returns pointers outside its memory.
 * The host allocates through the library's malloc (sandbox.alloc, bytes copied in
 * for a const pointer), so it must check what malloc returns. */
#ifndef HOSTILE_ALLOC_H
#define HOSTILE_ALLOC_H

#include <stdint.h>

/* how the next malloc lies */
#define HOSTILE_ALLOC_HONEST 0
#define HOSTILE_ALLOC_WILD 1
#define HOSTILE_ALLOC_AT_END 2

void hostile_alloc_mode(int32_t mode);
uint32_t hostile_alloc_strlen(const char *text);

#endif
