/* hostile_import: a library that imports a host function nobody granted. */
#ifndef HOSTILE_IMPORT_H
#define HOSTILE_IMPORT_H

#include <stdint.h>

int32_t hostile_import_secret(void);

#endif
