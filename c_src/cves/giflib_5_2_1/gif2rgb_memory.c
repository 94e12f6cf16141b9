/* giflib 5.2.1's gif2rgb utility (gif2rgb.c, in its release tarball) as a function:
   its main renamed, its input file a GIF in memory (DGifOpen) and its output file an RGB
   buffer in memory (fmemopen). gif2rgb_memory() runs the utility's GIF2RGB, which loads
   the screen and dumps it with DumpScreen2RGB. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gif_lib.h"

struct memory {
  const unsigned char* data;
  size_t size, at;
};

static struct memory input;
static unsigned char* output;
static size_t output_size;

static int read_input(GifFileType* gif, GifByteType* bytes, int n) {
  struct memory* in = gif->UserData;
  size_t take = n < 0 ? 0 : (size_t)n;
  if (take > in->size - in->at)
    take = in->size - in->at;
  memcpy(bytes, in->data + in->at, take);
  in->at += take;
  return (int)take;
}

static GifFileType* open_input(int* error) {
  return DGifOpen(&input, read_input, error);
}

static FILE* open_output(void) {
  return fmemopen(output, output_size, "wb");
}

#define DGifOpenFileName(name, error) open_input(error)
#define fopen(name, mode) open_output()
#define main gif2rgb_main
#include "gif2rgb.c"

/* gif2rgb's RGB dump of ``gif`` into ``rgb`` (3 bytes a pixel of its screen, which is
   ``rgb_size`` bytes). */
void gif2rgb_memory(const unsigned char* gif, size_t gif_size, unsigned char* rgb,
                    size_t rgb_size) {
  input = (struct memory){gif, gif_size, 0};
  output = rgb;
  output_size = rgb_size;
  GIF2RGB(1, "input.gif", true, "output.rgb");
}
