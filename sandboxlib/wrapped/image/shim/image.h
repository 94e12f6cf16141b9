/* The API each decoder module of sandboxlib.wrapped.image exports (one module per
   format, one image per sandbox): the header first, then the pixels, once the host
   has checked the dimensions. State lives in the module's globals: a sandbox decodes
   one image. */
#ifndef SANDBOXLIB_IMAGE_H
#define SANDBOXLIB_IMAGE_H

#include <stddef.h>

/* How the pixels are laid out: rows top to bottom, each packed to whole bytes, as
   Pillow's raw mode of the same name unpacks them (the host's table, _layouts.py). */
enum image_layout {
  IMAGE_1 = 1, /* 1-bit grey */
  IMAGE_L2,    /* 2-bit grey */
  IMAGE_L4,    /* 4-bit grey */
  IMAGE_L,     /* 8-bit grey */
  IMAGE_I16B,  /* 16-bit grey, big-endian */
  IMAGE_RGB,
  IMAGE_RGB16B,
  IMAGE_P1, /* palette indices, 1, 2, 4 and 8 bits */
  IMAGE_P2,
  IMAGE_P4,
  IMAGE_P,
  IMAGE_LA,
  IMAGE_LA16B,
  IMAGE_RGBA,
  IMAGE_RGBA16B,
  IMAGE_CMYKI, /* inverted CMYK (Adobe's), as Pillow reads every CMYK JPEG */
  IMAGE_RGBX,  /* RGB and a byte to ignore */
};

/* Reads the header of the image at `data` (kept until the sandbox closes): its layout,
   or 0 if `data` is not in this module's format, or -1 if it is but cannot be read
   (image_message says why). */
int image_header(const unsigned char* data, size_t size, int* width, int* height);

/* Decodes the pixels (rows packed as the layout says, `width` wide); NULL on failure. */
const unsigned char* image_pixels(void);

/* The palette, `*count` RGB triples; NULL if the image has none. */
const unsigned char* image_palette(int* count);

/* The transparency the header gave, `*size` bytes: an alpha per palette entry (a
   palette image), or a colour as PNG's tRNS stores it (2 bytes grey, 6 bytes RGB,
   big-endian), or 1 byte (GIF: the transparent index); NULL if none. */
const unsigned char* image_transparency(int* size);

/* Why the last call failed. */
const char* image_message(void);

#endif
