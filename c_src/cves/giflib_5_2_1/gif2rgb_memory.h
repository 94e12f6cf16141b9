/* gif2rgb_memory.c's entry point. */
#include <stddef.h>

void gif2rgb_memory(const unsigned char* gif, size_t gif_size, unsigned char* rgb, size_t rgb_size);
