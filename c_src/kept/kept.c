#include <string.h>

#include "kept.h"

static const char *remembered;

void kept_remember(const char *text) { remembered = text; }

int32_t kept_byte_at(int32_t index) { return (uint8_t)remembered[index]; }

int32_t kept_length(const char *text) { return (int32_t)strlen(text); }
