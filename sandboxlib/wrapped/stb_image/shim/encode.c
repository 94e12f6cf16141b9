/* For the benchmark and the tests, built natively (not part of the sandboxed module): a
   synthetic photo-like RGB image, encoded as JPEG by stb_image_write into `out`. */
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stdlib.h>
#include <string.h>

#include "stb_image_write.h"

typedef struct {
  unsigned char* out;
  int cap, len;
} sink;

static void put(void* context, void* data, int size) {
  sink* s = context;
  if (s->len <= s->cap - size)
    memcpy(s->out + s->len, data, (size_t)size);
  s->len += size;
}

/* The JPEG's length, or -1 (no memory, or more than `cap` bytes). */
int encode_test_jpeg(int width, int height, int quality, unsigned char* out, int cap) {
  unsigned char* px = malloc((size_t)width * height * 3);
  if (!px)
    return -1;
  unsigned seed = 12345;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      unsigned char* p = px + ((size_t)y * width + x) * 3;
      seed = seed * 1103515245u + 12345u; /* a little noise on smooth gradients */
      int noise = (int)(seed >> 16) & 15;
      p[0] = (unsigned char)(x * 255 / width ^ noise);
      p[1] = (unsigned char)(y * 255 / height + noise);
      p[2] = (unsigned char)((x + y) * 3 ^ (x * y >> 6));
    }
  sink s = {out, cap, 0};
  int ok = stbi_write_jpg_to_func(put, &s, width, height, 3, px, quality);
  free(px);
  return ok && s.len <= cap ? s.len : -1;
}
