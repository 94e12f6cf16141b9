/* libjpeg-turbo 2.0.6's PPM reader (rdppm.c, the one cjpeg and tjLoadImage() use) driven
   as tjLoadImage() drives it for a caller that asks for grayscale (TJPF_GRAY): the input
   colour space set to JCS_GRAYSCALE before start_input, then get_pixel_rows row by row;
   the file is in memory (fmemopen). */
#include <stdio.h>

#include "cdjpeg.h"
#include "ppm_gray.h"

int ppm_gray(const unsigned char* ppm, size_t ppm_size, unsigned char* gray, size_t size) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  cjpeg_source_ptr src;
  size_t at = 0;

  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  cinfo.in_color_space = JCS_GRAYSCALE;
  src = jinit_read_ppm(&cinfo);
  src->input_file = fmemopen((void*)ppm, ppm_size, "rb");
  (*src->start_input)(&cinfo, src);
  while (cinfo.next_scanline < cinfo.image_height && at + cinfo.image_width <= size) {
    JDIMENSION i, rows = (*src->get_pixel_rows)(&cinfo, src);
    for (i = 0; i < rows; i++, at += cinfo.image_width)
      memcpy(gray + at, src->buffer[i], cinfo.image_width);
    cinfo.next_scanline += rows;
  }
  fclose(src->input_file);
  jpeg_destroy_compress(&cinfo);
  return at == size;
}
