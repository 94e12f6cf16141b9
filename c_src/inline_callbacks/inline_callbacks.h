/* A callback parameter written as a function pointer, without a typedef name, taking a
   const pointer (md4c's md_html): tests/test_codegen.py. */
#ifndef INLINE_CALLBACKS_H
#define INLINE_CALLBACKS_H
#include <stdint.h>

/* Calls `emit` with each of the library's names and its length; returns how many. */
int32_t ic_each_name(void (*emit)(const char *name, uint32_t length, void *user), void *user);

#endif
