/* GIF's first frame with giflib's record-level API, from memory, as Pillow composes
   it: palette indices on a canvas of the screen's size (grown to hold the frame),
   filled with the transparent index if the frame has one, else 0. The extensions
   before it are kept for image_metadata. */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "records.h"

static struct {
  const unsigned char* data;
  size_t len, pos;
  GifFileType* gif;
  int width, height, transparent;
  unsigned char index;
  unsigned char* canvas;
  records extensions;
  const char* message;
} s;

static int read_data(GifFileType* gif, GifByteType* out, int n) {
  (void)gif;
  size_t take = (size_t)n < s.len - s.pos ? (size_t)n : s.len - s.pos;
  memcpy(out, s.data + s.pos, take);
  s.pos += take;
  return (int)take;
}

static int failed(void) {
  s.message = GifErrorString(s.gif ? s.gif->Error : D_GIF_ERR_READ_FAILED);
  if (!s.message)
    s.message = "broken GIF";
  return -1;
}

/* Keeps extension `code`, whose first sub-block (`block`: its length, then its data)
   was just read, as image_metadata lists it, and reads the rest of it. */
static int keep_extension(int code, GifByteType* block) {
  if (code == APPLICATION_EXT_FUNC_CODE && block) {
    unsigned char head[5 + 255];
    for (int i = 0; i < 4; i++)
      head[i] = (unsigned char)(s.pos >> (24 - 8 * i));
    memcpy(head + 4, block, 1 + (size_t)block[0]);
    if (DGifGetExtensionNext(s.gif, &block) == GIF_ERROR)
      return failed();
    records_add(&s.extensions, code, head, 5 + (size_t)head[4], block ? block + 1 : NULL,
                block ? block[0] : 0);
  } else if (code == COMMENT_EXT_FUNC_CODE && block) {
    records_add(&s.extensions, code, NULL, 0, NULL, 0);
    while (block) { /* its sub-blocks joined */
      records_extend(&s.extensions, block + 1, block[0]);
      if (DGifGetExtensionNext(s.gif, &block) == GIF_ERROR)
        return failed();
    }
  } else if (code == GRAPHICS_EXT_FUNC_CODE && block) {
    records_add(&s.extensions, code, block + 1, block[0], NULL, 0);
  }
  while (block)
    if (DGifGetExtensionNext(s.gif, &block) == GIF_ERROR)
      return failed();
  return 0;
}

/* Reads records up to the first image's descriptor, keeping its transparent index and
   its extensions. */
static int first_image(void) {
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(s.gif, &type) == GIF_ERROR)
      return failed();
    if (type == IMAGE_DESC_RECORD_TYPE)
      return DGifGetImageDesc(s.gif) == GIF_ERROR ? failed() : 0;
    if (type != EXTENSION_RECORD_TYPE) {
      s.message = "the GIF has no image";
      return -1;
    }
    int code;
    GifByteType* block;
    if (DGifGetExtension(s.gif, &code, &block) == GIF_ERROR)
      return failed();
    if (code == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4)
      s.transparent = block[1] & 1 ? block[4] : -1;
    if (keep_extension(code, block))
      return -1;
  }
}

/* Frees the previous image's state: one per sandbox, but the native backend's build
   runs every image in the same globals. */
static void reset(void) {
  if (s.gif)
    DGifCloseFile(s.gif, NULL);
  free(s.canvas);
  records_free(&s.extensions);
  memset(&s, 0, sizeof s);
  s.transparent = -1;
}

int image_header(const unsigned char* data, size_t size, int* width, int* height) {
  reset();
  if (size < 6 || (memcmp(data, "GIF87a", 6) && memcmp(data, "GIF89a", 6)))
    return 0;
  s.data = data;
  s.len = size;
  int error = 0;
  s.gif = DGifOpen(NULL, read_data, &error);
  if (!s.gif) {
    s.message = GifErrorString(error);
    return -1;
  }
  if (first_image())
    return -1;
  GifImageDesc* frame = &s.gif->Image;
  int right = frame->Left + frame->Width, bottom = frame->Top + frame->Height;
  *width = s.width = right > s.gif->SWidth ? right : s.gif->SWidth;
  *height = s.height = bottom > s.gif->SHeight ? bottom : s.gif->SHeight;
  return IMAGE_P;
}

const unsigned char* image_pixels(void) {
  if (!s.gif || s.width <= 0 || s.height <= 0) {
    s.message = "no header read";
    return NULL;
  }
  unsigned char* canvas = malloc((size_t)s.width * (size_t)s.height);
  if (!canvas) {
    s.message = "out of memory for the pixels";
    return NULL;
  }
  memset(canvas, s.transparent < 0 ? 0 : s.transparent, (size_t)s.width * (size_t)s.height);
  GifImageDesc* frame = &s.gif->Image;
  static const int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
  int passes = frame->Interlace ? 4 : 1;
  for (int pass = 0; pass < passes; pass++)
    for (int y = frame->Interlace ? start[pass] : 0; y < frame->Height;
         y += frame->Interlace ? step[pass] : 1) {
      unsigned char* row = canvas + (size_t)(frame->Top + y) * s.width + frame->Left;
      if (DGifGetLine(s.gif, row, frame->Width) == GIF_ERROR) {
        failed();
        free(canvas);
        return NULL;
      }
    }
  return s.canvas = canvas;
}

const unsigned char* image_palette(int* count) {
  ColorMapObject* map =
      s.gif ? (s.gif->Image.ColorMap ? s.gif->Image.ColorMap : s.gif->SColorMap) : NULL;
  if (!map)
    return NULL;
  *count = map->ColorCount;
  return (const unsigned char*)map->Colors;
}

const unsigned char* image_transparency(int* size) {
  if (s.transparent < 0)
    return NULL;
  s.index = (unsigned char)s.transparent;
  *size = 1;
  return &s.index;
}

const unsigned char* image_metadata(int kind, int* size) {
  return kind == IMAGE_RECORDS && s.gif ? records_get(&s.extensions, size) : NULL;
}

const char* image_message(void) {
  return s.message ? s.message : "";
}
