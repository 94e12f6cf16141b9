/* A library that keeps a pointer it was given past the call (as a parser keeps its
   input, or a decoder a dictionary), then reads through it in a later call. */
#include <stdint.h>

/* Remember `text` (the pointer itself, not a copy). */
void kept_remember(const char *text);

/* The byte at `index` of the remembered text, read now. */
int32_t kept_byte_at(int32_t index);

/* The length of `text` (a call that takes bytes and keeps nothing). */
int32_t kept_length(const char *text);
