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

/* Decodes the next rows into a buffer the module keeps (a strip: rows packed as for
   image_pixels), `*count` of them, 0 once every row was decoded; NULL on failure. A
   decoder exports this or image_pixels. */
const unsigned char* image_rows(int* count);

/* The palette, `*count` RGB triples; NULL if the image has none. */
const unsigned char* image_palette(int* count);

/* The transparency the header gave, `*size` bytes: an alpha per palette entry (a
   palette image), or a colour as PNG's tRNS stores it (2 bytes grey, 6 bytes RGB,
   big-endian), or 1 byte (GIF: the transparent index); NULL if none. */
const unsigned char* image_transparency(int* size);

/* What image_metadata returns. */
enum image_metadata {
  /* A list of records, each its kind (1 byte), the length of its data (4 bytes,
     big-endian) and the data. JPEG: its APPn and COM segments in file order (the kind
     their marker's second byte), then 0xC2 and no data if the frame is progressive.
     GIF: the extensions before the first image, in file order: 0xF9 a graphic
     control's data, 0xFE a comment's sub-blocks joined, 0xFF an application's: where
     its first sub-block ends in the file (4 bytes), that sub-block's length (1 byte),
     the sub-block and the second sub-block if there is one. PNG: its text chunks
     before the pixels: 0x74 a tEXt's or zTXt's keyword, a 0 byte and its text
     (inflated), 0x69 an iTXt's keyword, language tag, translated keyword and text,
     0-separated. */
  IMAGE_RECORDS = 1,
  IMAGE_ICC,       /* PNG's and WebP's ICC profile (PNG's inflated) */
  IMAGE_EXIF,      /* PNG's eXIf chunk, WebP's EXIF chunk */
  IMAGE_XMP,       /* WebP's XMP chunk */
  IMAGE_PHYS,      /* PNG's pHYs chunk: pixels per unit in x and y (4 bytes each,
                      big-endian) and the unit (1 byte) */
  IMAGE_ANIMATION, /* WebP: the loop count (2 bytes), background colour (4 bytes,
                      A R G B) and first frame's duration (4 bytes), big-endian, as its
                      demuxer reads them */
};

/* The header's metadata of `kind`, `*size` bytes; NULL if the image has none (or its
   format never has that kind). */
const unsigned char* image_metadata(int kind, int* size);

/* Why the last call failed. */
const char* image_message(void);

/* An animation (WebP): how many frames it has (1 for a still image; 0 on failure). */
int image_frames(void);

/* The next frame of the animation (the first at the first call, or after
   image_rewind), composed on its canvas (the header's layout and size), and in
   `*timestamp` the time its display ends (milliseconds from the start); NULL after the
   last frame or on failure. */
const unsigned char* image_next_frame(int* timestamp);

/* Back to before the first frame; 0 on failure. */
int image_rewind(void);

#endif
