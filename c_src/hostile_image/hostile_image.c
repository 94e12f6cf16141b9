/* An 8x8 RGBX image whose strips lie as the data's first byte says: 0 honest (zero
   pixels), 1 more rows than the image has, 2 a negative count, 3 a strip past the end
   of the sandbox's memory, 4 no rows before the image is complete. */
#include <stdint.h>

#include "image.h"

static int lie;
static unsigned char strip[8 * 4 * 8];

int image_header(const unsigned char* data, size_t size, int* width, int* height) {
  lie = size ? data[0] : 0;
  *width = 8;
  *height = 8;
  return IMAGE_RGBX;
}

const unsigned char* image_rows(int* count) {
  *count = lie == 1 ? 9 : lie == 2 ? -1 : lie == 4 ? 0 : 8;
  return lie == 3 ? (const unsigned char*)(uintptr_t)0xFFFFFF00u : strip;
}

const unsigned char* image_palette(int* count) {
  *count = 0;
  return NULL;
}

const unsigned char* image_transparency(int* size) {
  *size = 0;
  return NULL;
}

const unsigned char* image_metadata(int kind, int* size) {
  *size = 0;
  return NULL;
}

const char* image_message(void) {
  return "a hostile decoder";
}
