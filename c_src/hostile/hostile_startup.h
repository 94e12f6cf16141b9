/* hostile_startup: a library whose start-up (constructors, run before any call)
 * attacks the host. Built three ways (tests/libs.py): by default its constructor
 * reads the clock and randomness (which must not be baked into a shared image);
 * with HOSTILE_STARTUP_SPIN it never returns; with HOSTILE_STARTUP_FILL it
 * allocates and fills memory until malloc fails (or HOSTILE_STARTUP_FILL_MAX
 * blocks). */
#ifndef HOSTILE_STARTUP_H
#define HOSTILE_STARTUP_H

#include <stdint.h>

#define HOSTILE_STARTUP_FILL_BLOCK (1 << 20)
#define HOSTILE_STARTUP_FILL_MAX 64

/* what the constructor saw: seconds since the epoch, or -1 if the clock was denied */
int64_t hostile_startup_clock(void);
/* 64 random bits the constructor drew, or -1 if randomness was denied */
int64_t hostile_startup_random(void);
/* 1 MiB blocks the constructor allocated and filled */
int32_t hostile_startup_blocks(void);

#endif
