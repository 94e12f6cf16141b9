/* A library laid out as real projects are: its public header under include/tree/,
   its sources under src/, headers reached by tree paths and relative paths. */
#ifndef TREE_H
#define TREE_H
#include <stdint.h>

int32_t tree_scaled_sum(int32_t a, int32_t b);
int32_t tree_version(void);

#endif
