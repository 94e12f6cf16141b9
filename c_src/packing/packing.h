/* Structs laid out beyond C's rules, as real headers do it (file formats, SIMD state):
   the generated views must read what this library writes (tests/test_codegen_layouts.py). */
#ifndef PACKING_H
#define PACKING_H
#include <stdint.h>

#pragma pack(push, 1)
struct pk_header { /* a file header read straight from bytes */
  char magic;
  int32_t length;
  int16_t flags;
  union { uint16_t raw; int8_t pair[2]; };
  struct { char kind; int32_t count; }; /* packed too: count right after kind */
};
#pragma pack(pop)

#pragma pack(push, 4)
struct pk_four { /* where wasm32 and the host differ: a pointer and an int64 */
  char tag;
  int64_t wide;
  const char *name;
  double weight;
};
#pragma pack(pop)

struct pk_inner {
  char c;
  int32_t i;
};

struct pk_attr { /* a packed struct holding an ordinary one */
  char c;
  struct pk_inner inner;
  int64_t l;
  int16_t shorts[3];
} __attribute__((packed));

typedef struct __attribute__((aligned(32))) { /* a SIMD state */
  char c;
  int32_t x __attribute__((aligned(16)));
} pk_state;

struct pk_digest { /* an array sized by sizeof, which the compiler evaluates */
  unsigned char digest[sizeof(struct pk_inner) * 2];
};

struct pk_word { /* sized otherwise on wasm32 than on the host: no view class */
  char word[sizeof(long)];
};

void pk_fill_digest(struct pk_digest *d);
void pk_fill_word(struct pk_word *w);
void pk_fill_header(struct pk_header *h);
void pk_fill_four(struct pk_four *f);
void pk_fill_attr(struct pk_attr *a);
void pk_fill_state(pk_state *s);

#endif
