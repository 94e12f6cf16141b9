/* JPEG with libjpeg-turbo, from memory, as Pillow's decoder asks for it: grey, RGB (as
   RGBX) or CMYK (Pillow inverts CMYK: Adobe's convention), libjpeg's defaults otherwise (its
   accurate integer IDCT, fancy upsampling; in wasm the upsampling of 4:2:0 and 4:2:2 fused
   with the conversion to RGBX, shim/wasm/jdsample-wasm.c). An error, or the data ending early (a
   warning to libjpeg, which would pad the image with grey), returns through a longjmp
   with libjpeg's message. Its APPn and COM segments are kept for image_metadata. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "image.h"
#include "records.h"
#ifdef __wasm__
#include "wasm/jdsample-wasm.h"
#endif

#define STRIP_BYTES (256 << 10)

static struct {
  struct jpeg_decompress_struct info;
  struct jpeg_error_mgr errors;
  jmp_buf jump;
  int ready;
  unsigned char* pixels; /* the strip */
  size_t stride;         /* bytes per row */
  JDIMENSION strip;      /* rows per strip */
  records segments;      /* image_metadata's, made at its first call */
  int listed;
  char message[JMSG_LENGTH_MAX];
} s;

static void fail(j_common_ptr info) {
  info->err->format_message(info, s.message);
  longjmp(s.jump, 1);
}

static void warn(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF)
    fail(info);
}

/* Frees the previous image's state: one per sandbox, but the native backend's build
   runs every image in the same globals. */
static void reset(void) {
  if (s.ready)
    jpeg_destroy_decompress(&s.info);
  free(s.pixels);
  records_free(&s.segments);
  memset(&s, 0, sizeof s);
}

int image_header(const unsigned char* data, size_t size, int* width, int* height) {
  reset();
  if (size < 3 || memcmp(data, "\xff\xd8\xff", 3))
    return 0;
  s.info.err = jpeg_std_error(&s.errors);
  s.errors.error_exit = fail;
  s.errors.emit_message = warn;
  if (setjmp(s.jump))
    return -1;
  jpeg_create_decompress(&s.info);
  s.ready = 1;
  jpeg_mem_src(&s.info, data, (unsigned long)size);
  for (int app = 0; app < 16; app++)
    jpeg_save_markers(&s.info, JPEG_APP0 + app, 0xFFFF);
  jpeg_save_markers(&s.info, JPEG_COM, 0xFFFF);
  jpeg_read_header(&s.info, TRUE);
  *width = (int)s.info.image_width;
  *height = (int)s.info.image_height;
  switch (s.info.num_components) {
    case 1:
      s.info.out_color_space = JCS_GRAYSCALE;
      return IMAGE_L;
    case 3: /* RGBX: what Pillow copies into an RGB image as it is */
      s.info.out_color_space = JCS_EXT_RGBX;
      return IMAGE_RGBX;
    case 4:
      s.info.out_color_space = JCS_CMYK;
      return IMAGE_CMYKI;
    default:
      strcpy(s.message, "not a grey, RGB or CMYK JPEG");
      return -1;
  }
}

/* Starts the decompression and allocates the strip the rows are decoded into, sized to
   stay in the cache while the host copies it out; 0 on success. */
static int start(void) {
  jpeg_start_decompress(&s.info);
#ifdef __wasm__
  jsimd_fuse_upsampling(&s.info);
#endif
  s.stride = (size_t)s.info.output_width * (size_t)s.info.output_components;
  s.strip = STRIP_BYTES / s.stride ? (JDIMENSION)(STRIP_BYTES / s.stride) : 1;
  if (s.strip > s.info.output_height)
    s.strip = s.info.output_height;
  s.pixels = malloc(s.stride * s.strip);
  if (!s.pixels) {
    strcpy(s.message, "out of memory for the pixels");
    return -1;
  }
  return 0;
}

const unsigned char* image_rows(int* count) {
  *count = 0;
  if (!s.ready) {
    strcpy(s.message, "no header read");
    return NULL;
  }
  if (setjmp(s.jump))
    return NULL;
  if (!s.pixels && start() != 0)
    return NULL;
  JDIMENSION done = 0;
  while (done < s.strip && s.info.output_scanline < s.info.output_height) {
    JSAMPROW rows[16];
    JDIMENSION n = s.strip - done;
    n = n < 16 ? n : 16;
    for (JDIMENSION i = 0; i < n; i++)
      rows[i] = s.pixels + (done + i) * s.stride;
    JDIMENSION got = jpeg_read_scanlines(&s.info, rows, n);
    if (!got)
      break;
    done += got;
  }
  *count = (int)done;
  return s.pixels;
}

const unsigned char* image_metadata(int kind, int* size) {
  if (kind != IMAGE_RECORDS || !s.ready)
    return NULL;
  if (!s.listed) {
    for (jpeg_saved_marker_ptr m = s.info.marker_list; m; m = m->next)
      records_add(&s.segments, m->marker, m->data, m->data_length, NULL, 0);
    if (s.info.progressive_mode)
      records_add(&s.segments, 0xC2, NULL, 0, NULL, 0);
    s.listed = 1;
  }
  return records_get(&s.segments, size);
}

const char* image_message(void) {
  return s.message;
}
