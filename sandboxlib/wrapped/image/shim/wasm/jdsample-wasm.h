/* The upsampling fused with the conversion to RGBX (jdsample-wasm.c), wasm build only. */
#ifndef JDSAMPLE_WASM_H
#define JDSAMPLE_WASM_H
#include <stdio.h>

#include "jpeglib.h"

/* After jpeg_start_decompress: replaces libjpeg's upsampler and colour conversion by the
   fused one when the image is 4:2:0 or 4:2:2 YCbCr decoded to RGBX with fancy upsampling
   and no scaling; FALSE (nothing changed) otherwise. */
boolean jsimd_fuse_upsampling(j_decompress_ptr cinfo);
#endif
