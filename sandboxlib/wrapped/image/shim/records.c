/* image_metadata's IMAGE_RECORDS list (records.h). */
#include "records.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Room for `more` bytes at the end of the list (else `failed`). */
static int reserve(records* list, size_t more) {
  if (list->failed || more > INT32_MAX || list->size > INT32_MAX - more) {
    list->failed = 1;
    return 0;
  }
  size_t needed = list->size + more;
  if (needed > list->capacity) {
    size_t capacity = needed > 2 * list->capacity ? needed : 2 * list->capacity;
    unsigned char* grown = realloc(list->data, capacity);
    if (!grown) {
      list->failed = 1;
      return 0;
    }
    list->data = grown;
    list->capacity = capacity;
  }
  return 1;
}

static void append(records* list, const void* data, size_t size) {
  if (size && reserve(list, size)) {
    memcpy(list->data + list->size, data, size);
    list->size += size;
  }
}

static void set_length(records* list) {
  size_t length = list->size - list->last - 5;
  for (int i = 0; i < 4; i++)
    list->data[list->last + 1 + i] = (unsigned char)(length >> (24 - 8 * i));
}

void records_add(records* list, int kind, const void* head, size_t head_size, const void* tail,
                 size_t tail_size) {
  unsigned char start[5] = {(unsigned char)kind};
  size_t at = list->size;
  append(list, start, sizeof start);
  append(list, head, head_size);
  append(list, tail, tail_size);
  if (!list->failed) {
    list->last = at;
    set_length(list);
  }
}

void records_extend(records* list, const void* data, size_t size) {
  append(list, data, size);
  if (!list->failed && list->size > list->last)
    set_length(list);
}

const unsigned char* records_get(const records* list, int* size) {
  if (list->failed)
    return NULL;
  *size = (int)list->size;
  return list->data ? list->data : (const unsigned char*)"";
}

void records_free(records* list) {
  free(list->data);
  memset(list, 0, sizeof *list);
}
