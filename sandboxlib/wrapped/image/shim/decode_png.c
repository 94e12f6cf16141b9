/* PNG with libpng's row-by-row API, from memory: the rows as the file stores them
   (bit depths and channels untouched, interlacing undone), for Pillow's raw modes. */
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "records.h"

static struct {
  const unsigned char* data;
  size_t len, pos;
  png_structp png;
  png_infop info;
  size_t stride;
  int height;
  unsigned char* rows;
  unsigned char trns[256];
  unsigned char phys[9];
  records texts; /* image_metadata's, made at its first call */
  int listed;
  char message[160];
} s;

static void fail(png_structp png, png_const_charp message) {
  strncpy(s.message, message, sizeof s.message - 1);
  png_longjmp(png, 1);
}

static void ignore(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

static void read_data(png_structp png, png_bytep out, size_t n) {
  if (n > s.len - s.pos)
    png_error(png, "the file is truncated");
  memcpy(out, s.data + s.pos, n);
  s.pos += n;
}

/* The layout of PNG colour type `type` at `depth` bits; 0 for none. */
static int layout(int type, int depth) {
  switch (type * 100 + depth) {
    case 1:
      return IMAGE_1;
    case 2:
      return IMAGE_L2;
    case 4:
      return IMAGE_L4;
    case 8:
      return IMAGE_L;
    case 16:
      return IMAGE_I16B;
    case 208:
      return IMAGE_RGB;
    case 216:
      return IMAGE_RGB16B;
    case 301:
      return IMAGE_P1;
    case 302:
      return IMAGE_P2;
    case 304:
      return IMAGE_P4;
    case 308:
      return IMAGE_P;
    case 408:
      return IMAGE_LA;
    case 416:
      return IMAGE_LA16B;
    case 608:
      return IMAGE_RGBA;
    case 616:
      return IMAGE_RGBA16B;
    default:
      return 0;
  }
}

/* Frees the previous image's state: one per sandbox, but the native backend's build
   runs every image in the same globals. */
static void reset(void) {
  if (s.png)
    png_destroy_read_struct(&s.png, &s.info, NULL);
  free(s.rows);
  records_free(&s.texts);
  memset(&s, 0, sizeof s);
}

int image_header(const unsigned char* data, size_t size, int* width, int* height) {
  reset();
  if (size < 8 || png_sig_cmp(data, 0, 8))
    return 0;
  s.data = data;
  s.len = size;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, fail, ignore);
  s.info = s.png ? png_create_info_struct(s.png) : NULL;
  if (!s.info) {
    strcpy(s.message, "out of memory");
    return -1;
  }
  if (setjmp(png_jmpbuf(s.png)))
    return -1;
  png_set_read_fn(s.png, NULL, read_data);
  png_read_info(s.png, s.info);
  png_uint_32 w, h;
  int depth, type;
  png_get_IHDR(s.png, s.info, &w, &h, &depth, &type, NULL, NULL, NULL);
  *width = (int)w;
  *height = (int)h;
  s.height = (int)h;
  png_set_interlace_handling(s.png);
  png_read_update_info(s.png, s.info);
  s.stride = png_get_rowbytes(s.png, s.info);
  return layout(type, depth);
}

const unsigned char* image_pixels(void) {
  if (!s.info || s.stride == 0 || (size_t)s.height > SIZE_MAX / s.stride) {
    strcpy(s.message, "no header read");
    return NULL;
  }
  unsigned char* volatile rows = malloc(s.stride * (size_t)s.height);
  if (!rows) {
    strcpy(s.message, "out of memory for the pixels");
    return NULL;
  }
  if (setjmp(png_jmpbuf(s.png))) {
    free(rows);
    return NULL;
  }
  int passes = png_set_interlace_handling(s.png);
  for (int pass = 0; pass < passes; pass++)
    for (int y = 0; y < s.height; y++)
      png_read_row(s.png, rows + (size_t)y * s.stride, NULL);
  return s.rows = rows;
}

const unsigned char* image_palette(int* count) {
  png_colorp palette;
  if (!s.info || !png_get_PLTE(s.png, s.info, &palette, count))
    return NULL;
  return (const unsigned char*)palette;
}

const unsigned char* image_transparency(int* size) {
  png_bytep alpha;
  int n;
  png_color_16p colour;
  if (!s.info || !png_get_tRNS(s.png, s.info, &alpha, &n, &colour))
    return NULL;
  if (png_get_color_type(s.png, s.info) == PNG_COLOR_TYPE_PALETTE) {
    *size = n;
    return alpha;
  }
  png_uint_16 values[3] = {colour->gray, 0, 0};
  if (png_get_color_type(s.png, s.info) == PNG_COLOR_TYPE_RGB) {
    values[0] = colour->red;
    values[1] = colour->green;
    values[2] = colour->blue;
  }
  *size = png_get_color_type(s.png, s.info) == PNG_COLOR_TYPE_RGB ? 6 : 2;
  for (int i = 0; i < *size / 2; i++) {
    s.trns[2 * i] = (unsigned char)(values[i] >> 8);
    s.trns[2 * i + 1] = (unsigned char)values[i];
  }
  return s.trns;
}

/* The text chunks as image_metadata lists them. */
static const unsigned char* texts(int* size) {
  if (!s.listed) {
    png_textp text;
    int n = png_get_text(s.png, s.info, &text, NULL);
    for (int i = 0; i < n; i++) {
      const char* key = text[i].key;
      if (text[i].compression <= PNG_TEXT_COMPRESSION_zTXt) {
        records_add(&s.texts, 't', key, strlen(key) + 1, text[i].text, text[i].text_length);
        continue;
      }
      records_add(&s.texts, 'i', key, strlen(key) + 1, text[i].lang,
                  text[i].lang ? strlen(text[i].lang) : 0);
      records_extend(&s.texts, "", 1);
      records_extend(&s.texts, text[i].lang_key, text[i].lang_key ? strlen(text[i].lang_key) : 0);
      records_extend(&s.texts, "", 1);
      records_extend(&s.texts, text[i].text, text[i].itxt_length);
    }
    s.listed = 1;
  }
  return records_get(&s.texts, size);
}

const unsigned char* image_metadata(int kind, int* size) {
  if (!s.info)
    return NULL;
  if (kind == IMAGE_RECORDS)
    return texts(size);
  png_uint_32 length = 0;
  png_bytep data = NULL;
  if (kind == IMAGE_ICC) {
    png_charp name;
    int compression;
    if (!png_get_iCCP(s.png, s.info, &name, &compression, &data, &length))
      return NULL;
  } else if (kind == IMAGE_EXIF) {
    if (!png_get_eXIf_1(s.png, s.info, &length, &data))
      return NULL;
  } else if (kind == IMAGE_PHYS) {
    png_uint_32 x, y;
    int unit;
    if (!png_get_pHYs(s.png, s.info, &x, &y, &unit))
      return NULL;
    for (int i = 0; i < 4; i++) {
      s.phys[i] = (unsigned char)(x >> (24 - 8 * i));
      s.phys[4 + i] = (unsigned char)(y >> (24 - 8 * i));
    }
    s.phys[8] = (unsigned char)unit;
    data = s.phys;
    length = sizeof s.phys;
  }
  if (!data || length > INT32_MAX)
    return NULL;
  *size = (int)length;
  return data;
}

const char* image_message(void) {
  return s.message;
}
