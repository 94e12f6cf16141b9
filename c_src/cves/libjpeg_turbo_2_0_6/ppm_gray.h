/* ppm_gray.c's entry point. */
#include <stddef.h>

/* The PPM or PGM ``ppm`` read into ``gray`` as grayscale (``size`` bytes: its width times
   its height); 1 if it filled them. */
int ppm_gray(const unsigned char* ppm, size_t ppm_size, unsigned char* gray, size_t size);
