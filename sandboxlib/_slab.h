/* sandboxlib: the process's allocator of linear memories (sandboxlib._slab), as the
   backends' C sees it (their compiled modules and memory creators):
   they get its address (_slab.api()) once loaded. */
#ifndef SBX_SLAB_H
#define SBX_SLAB_H
#include <stddef.h>
#include <stdint.h>

#define SBX_SLAB_VERSION 1

typedef struct {
  unsigned version; /* SBX_SLAB_VERSION */
  /* A slot of `size` bytes, readable, writable and all zero; NULL with errno set when
     the machine has no room for it. */
  uint8_t* (*take)(size_t size);
  /* Give back a slot taken with `size`, of which only the first `used` bytes can have
     been written: they are wiped before the slot serves anyone else. */
  void (*give)(uint8_t* slot, size_t size, size_t used);
} sbx_slab_api;

#endif
