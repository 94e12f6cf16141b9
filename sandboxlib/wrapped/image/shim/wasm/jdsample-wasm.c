/* libjpeg-turbo's fancy upsampling of 4:2:0 and 4:2:2 chroma (jdsample.c's h2v2 and h2v1
   "triangle" filters) fused with the YCbCr -> RGBX conversion (ycc-wasm.h), in wasm SIMD128:
   each output row is made from its Y row and its chroma rows in one pass, so the chroma is
   never stored full-size and read back. jdsample.c's integers: per chroma column a column
   sum, c = 3 near + far for h2v2 (the nearer and the farther input row), 4 near for h2v1; then
   the pixels 2i and 2i + 1 are (3 c[i] + c[i - 1] + 8) >> 4 and (3 c[i] + c[i + 1] + 7) >> 4,
   the first and last columns using c[0] and c[last] as their outer neighbours; for h2v1
   (3 x[i] + x[i - 1] + 1) >> 2 and (3 x[i] + x[i + 1] + 2) >> 2, computed as (4 (...) + 4) >> 4
   and (4 (...) + 8) >> 4. The value 128 is taken off in the rounding constants: the
   conversion needs Cb - 128 and Cr - 128. */
#ifdef __wasm__
#include <string.h>

#define JPEG_INTERNALS
#include "jinclude.h"

#include "jpeglib.h"

#include "jdsample-wasm.h"
#include "jpegcomp.h"
#include "ycc-wasm.h"

typedef struct {
  struct jpeg_upsampler pub;
  int row;               /* the next row of the current row group, max_v_samp_factor when none */
  JDIMENSION rows_to_go; /* rows of the image still to emit */
} fused_upsampler;

/* The column sums of eight chroma columns, as i16 (h2v1: far is not read) */
static inline v128_t colsums(const JSAMPLE* near, const JSAMPLE* far, int h2v2) {
  v128_t n = wasm_u16x8_load8x8(near);
  if (!h2v2)
    return wasm_i16x8_shl(n, 2);
  return wasm_i16x8_add(wasm_i16x8_add(n, wasm_i16x8_add(n, n)), wasm_u16x8_load8x8(far));
}

/* One component's sixteen output values less 128 (two i16 vectors) from the column sums of
   its eight columns (c), of the eight before them (prev) and the eight after (next); h2v2:
   rounding by 8 and 7 (else h2v1's, 1 and 2, times 4). */
static inline void triangle(v128_t prev, v128_t c, v128_t next, int h2v2, v128_t out[2]) {
  const v128_t even_bias = wasm_i16x8_splat((h2v2 ? 8 : 4) - (CENTERJSAMPLE << 4));
  const v128_t odd_bias = wasm_i16x8_splat((h2v2 ? 7 : 8) - (CENTERJSAMPLE << 4));
  v128_t left = wasm_i16x8_shuffle(prev, c, 7, 8, 9, 10, 11, 12, 13, 14);
  v128_t right = wasm_i16x8_shuffle(c, next, 1, 2, 3, 4, 5, 6, 7, 8);
  v128_t c3 = wasm_i16x8_add(c, wasm_i16x8_add(c, c));
  v128_t even = wasm_i16x8_shr(wasm_i16x8_add(wasm_i16x8_add(c3, left), even_bias), 4);
  v128_t odd = wasm_i16x8_shr(wasm_i16x8_add(wasm_i16x8_add(c3, right), odd_bias), 4);
  out[0] = wasm_i16x8_shuffle(even, odd, 0, 8, 1, 9, 2, 10, 3, 11);
  out[1] = wasm_i16x8_shuffle(even, odd, 4, 12, 5, 13, 6, 14, 7, 15);
}

/* Sixteen RGBX pixels at `out` from their Y and the chroma columns at `near` and `far`,
   whose column sums are `c`, those of the eight columns before `prev`; then `prev` and `c`
   move on by eight columns. */
static inline void step(const JSAMPLE* near[2], const JSAMPLE* far[2], int h2v2, const JSAMPLE* y,
                        JSAMPLE* out, v128_t prev[2], v128_t c[2]) {
  v128_t next[2], cb[2], cr[2], rgb[3];
  for (int k = 0; k < 2; k++)
    next[k] = colsums(near[k] + 8, far[k] + 8, h2v2);
  triangle(prev[0], c[0], next[0], h2v2, cb);
  triangle(prev[1], c[1], next[1], h2v2, cr);
  ycc16(wasm_v128_load(y), cb, cr, rgb);
  store_rgbx(rgb, out);
  for (int k = 0; k < 2; k++) {
    prev[k] = c[k];
    c[k] = next[k];
  }
}

/* An output row: `width` RGBX pixels from the Y row and each chroma component's nearer and
   farther rows (h2v1: no farther rows), `columns` chroma columns (> 2); inlined once for
   each case, to test none in its loop. */
static inline __attribute__((always_inline)) void fused_row(const JSAMPLE* y,
                                                            const JSAMPLE* near[2],
                                                            const JSAMPLE* far[2], int h2v2,
                                                            JDIMENSION columns, JDIMENSION width,
                                                            JSAMPLE* out) {
  v128_t prev[2], c[2], next[2], cb[2], cr[2], rgb[3];
  JDIMENSION i = 0;
  for (int k = 0; k < 2; k++) {
    c[k] = colsums(near[k], far[k], h2v2);
    prev[k] = wasm_i16x8_shuffle(c[k], c[k], 0, 0, 0, 0, 0, 0, 0, 0);
  }
  for (; i + 16 < columns; i += 16) { /* two steps through one base per row */
    const JSAMPLE *n0 = near[0] + i, *n1 = near[1] + i, *f0 = far[0] + i, *f1 = far[1] + i;
    const JSAMPLE* luma = y + 2 * i;
    JSAMPLE* to = out + 8 * i;
    /* hidden from LLVM's loop strength reduction, which would otherwise compute each
       access's address by an addition of its own: so the accesses through each use wasm's
       offsets from one base, which wasm2c checks once (backends/wasm2c/checks.py) */
    __asm__("" : "+r"(n0), "+r"(n1), "+r"(f0), "+r"(f1), "+r"(luma), "+r"(to));
    step((const JSAMPLE* [2]){n0, n1}, (const JSAMPLE* [2]){f0, f1}, h2v2, luma, to, prev, c);
    step((const JSAMPLE* [2]){n0 + 8, n1 + 8}, (const JSAMPLE* [2]){f0 + 8, f1 + 8}, h2v2,
         luma + 16, to + 64, prev, c);
  }
  if (i + 8 < columns) {
    step((const JSAMPLE* [2]){near[0] + i, near[1] + i},
         (const JSAMPLE* [2]){far[0] + i, far[1] + i}, h2v2, y + 2 * i, out + 8 * i, prev, c);
    i += 8;
  }
  /* the last 1-8 columns, from copies with the last column repeated to sixteen */
  JSAMPLE rows[2][2][16], ys[16] = {0}, pixels[64];
  JDIMENSION n = columns - i;
  for (int k = 0; k < 2; k++)
    for (int f = 0; f <= h2v2; f++) {
      const JSAMPLE* from = f ? far[k] : near[k];
      memcpy(rows[k][f], from + i, n);
      memset(rows[k][f] + n, from[columns - 1], 16 - n);
    }
  for (int k = 0; k < 2; k++) {
    c[k] = colsums(rows[k][0], rows[k][1], h2v2);
    next[k] = colsums(rows[k][0] + 8, rows[k][1] + 8, h2v2);
  }
  triangle(prev[0], c[0], next[0], h2v2, cb);
  triangle(prev[1], c[1], next[1], h2v2, cr);
  memcpy(ys, y + 2 * i, width - 2 * i);
  ycc16(wasm_v128_load(ys), cb, cr, rgb);
  store_rgbx(rgb, pixels);
  memcpy(out + 8 * i, pixels, 4 * (width - 2 * i));
}

static void start_pass(j_decompress_ptr cinfo) {
  fused_upsampler* up = (fused_upsampler*)cinfo->upsample;
  up->row = cinfo->max_v_samp_factor;
  up->rows_to_go = cinfo->output_height;
}

/* jdsample.c's sep_upsample for this case: the rows of one row group, as many as fit. */
static void upsample(j_decompress_ptr cinfo, JSAMPIMAGE input_buf, JDIMENSION* in_row_group_ctr,
                     JDIMENSION in_row_groups_avail, JSAMPARRAY output_buf, JDIMENSION* out_row_ctr,
                     JDIMENSION out_rows_avail) {
  (void)in_row_groups_avail;
  fused_upsampler* up = (fused_upsampler*)cinfo->upsample;
  int v = cinfo->max_v_samp_factor;
  if (up->row >= v)
    up->row = 0;
  JDIMENSION group = *in_row_group_ctr;
  for (; up->row < v && up->rows_to_go > 0 && *out_row_ctr < out_rows_avail; up->row++) {
    const JSAMPLE *near[2], *far[2];
    for (int k = 0; k < 2; k++) {
      near[k] = input_buf[k + 1][group];
      far[k] = v == 1 ? near[k] : input_buf[k + 1][up->row ? (int)group + 1 : (int)group - 1];
    }
    const JSAMPLE* y = input_buf[0][group * v + up->row];
    JDIMENSION columns = cinfo->comp_info[1].downsampled_width;
    if (v == 2)
      fused_row(y, near, far, 1, columns, cinfo->output_width, output_buf[*out_row_ctr]);
    else
      fused_row(y, near, far, 0, columns, cinfo->output_width, output_buf[*out_row_ctr]);
    (*out_row_ctr)++;
    up->rows_to_go--;
  }
  if (up->row >= v)
    (*in_row_group_ctr)++;
}

boolean jsimd_fuse_upsampling(j_decompress_ptr cinfo) {
  const jpeg_component_info* comp = cinfo->comp_info;
  int v = cinfo->max_v_samp_factor;
  if (cinfo->num_components != 3 || cinfo->jpeg_color_space != JCS_YCbCr ||
      cinfo->out_color_space != JCS_EXT_RGBX || cinfo->quantize_colors ||
      !cinfo->do_fancy_upsampling || cinfo->CCIR601_sampling || cinfo->_min_DCT_scaled_size != 8 ||
      cinfo->output_width != cinfo->image_width || cinfo->max_h_samp_factor != 2 || v > 2)
    return FALSE;
  for (int k = 0; k < 3; k++)
    if (comp[k]._DCT_scaled_size != 8 || !comp[k].component_needed ||
        comp[k].h_samp_factor != (k ? 1 : 2) || comp[k].v_samp_factor != (k ? 1 : v))
      return FALSE;
  if (comp[1].downsampled_width <= 2 || comp[2].downsampled_width != comp[1].downsampled_width)
    return FALSE;
  fused_upsampler* up = (fused_upsampler*)(*cinfo->mem->alloc_small)(
      (j_common_ptr)cinfo, JPOOL_IMAGE, sizeof(fused_upsampler));
  up->pub.start_pass = start_pass;
  up->pub.upsample = upsample;
  up->pub.need_context_rows = cinfo->upsample->need_context_rows;
  cinfo->upsample = &up->pub;
  cinfo->post->post_process_data = upsample;
  start_pass(cinfo);
  return TRUE;
}
#endif
