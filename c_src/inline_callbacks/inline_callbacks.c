#include "inline_callbacks.h"

static const char *const names[] = {"alpha", "beta", "gamma"};

int32_t ic_each_name(void (*emit)(const char *name, uint32_t length, void *user), void *user) {
  int32_t n = 0;
  for (; n < 3; n++) {
    uint32_t length = 0;
    while (names[n][length])
      length++;
    emit(names[n], length, user);
  }
  return n;
}
