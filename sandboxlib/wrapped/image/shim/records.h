/* image_metadata's IMAGE_RECORDS (image.h): a list that grows record by record. */
#ifndef SANDBOXLIB_RECORDS_H
#define SANDBOXLIB_RECORDS_H

#include <stddef.h>

typedef struct {
  unsigned char* data;
  size_t size, capacity;
  size_t last; /* where the last record starts */
  int failed;  /* out of memory, or past image_metadata's int: no list */
} records;

/* Appends a record of `kind` whose data is `head` then `tail` (sizes may be 0). */
void records_add(records* list, int kind, const void* head, size_t head_size, const void* tail,
                 size_t tail_size);

/* Appends `size` bytes to the last record's data. */
void records_extend(records* list, const void* data, size_t size);

/* The list as image_metadata returns it: NULL if it failed, else its size in `*size`. */
const unsigned char* records_get(const records* list, int* size);

void records_free(records* list);

#endif
