/* image_palette and image_transparency (shim/image.h) for a decoder whose images have
   neither: JPEG's, and WebP's (its RGBA carries the alpha). */
#include "image.h"

const unsigned char* image_palette(int* count) {
  (void)count;
  return NULL;
}

const unsigned char* image_transparency(int* size) {
  (void)size;
  return NULL;
}
