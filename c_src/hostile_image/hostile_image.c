/* An 8x8 RGBX image whose strips lie as the data's first byte says: 0 honest (zero
   pixels), 1 more rows than the image has, 2 a negative count, 3 a strip past the end
   of the sandbox's memory, 4 no rows before the image is complete; and an animation of
   it whose frames lie so: 0 honest (2 frames, ending at 100 and 200 ms), 5 more frames
   than the file has bytes, 6 no frames, 7 a frame ending before the one before it,
   8 a frame past the end of the sandbox's memory. */
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

static int frames_given;

int image_frames(void) {
  return lie == 5 ? 1 << 30 : lie == 6 ? 0 : 2;
}

const unsigned char* image_next_frame(int* timestamp) {
  frames_given++;
  *timestamp = lie == 7 ? 300 - 100 * frames_given : 100 * frames_given;
  return lie == 8 ? (const unsigned char*)(uintptr_t)0xFFFFFF00u : strip;
}

int image_rewind(void) {
  frames_given = 0;
  return 1;
}
