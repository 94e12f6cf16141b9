/* jdhuff.c with a 64-bit bit buffer in wasm32 (see huff64.h), and its fast path (a whole
   MCU, enough data buffered) with a shorter AC step: an AC code and the value bits after
   it that fit in the lookahead's 8 bits together are decoded by one lookup, in a table
   made per scan from the code's lookahead table; the others as jdhuff.c decodes them. The
   same bits make the same coefficients; only where the bit buffer is refilled differs. */
#include <stdint.h>

#include "huff64.h"
#define jinit_huff_decoder jinit_huff_decoder_libjpeg
#include "jdhuff.c"
#undef jinit_huff_decoder

enum { LOOKS = 1 << HUFF_LOOKAHEAD };

typedef struct {
  huff_entropy_decoder base; /* jdhuff.c's, its methods replaced */
  /* per AC table and lookahead: value << 16 | run << 8 | bits taken (code and value), or 0
     when they do not fit */
  int32_t fast_ac[NUM_HUFF_TBLS][LOOKS];
  const int32_t* fast_cur[D_MAX_BLOCKS_IN_MCU];
} fast_decoder;

static const int32_t no_fast_ac[LOOKS]; /* for blocks whose AC values are not kept */

static void make_fast_ac(const d_derived_tbl* tbl, int32_t fast[LOOKS]) {
  for (int look = 0; look < LOOKS; look++) {
    int nb = tbl->lookup[look] >> HUFF_LOOKAHEAD, symbol = tbl->lookup[look] & (LOOKS - 1);
    int run = symbol >> 4, size = symbol & 15, bits = nb + size;
    fast[look] = 0;
    if (size && bits <= HUFF_LOOKAHEAD) {
      int x = (look >> (HUFF_LOOKAHEAD - bits)) & ((1 << size) - 1), value = HUFF_EXTEND(x, size);
      fast[look] = (int32_t)((uint32_t)value << 16) | run << 8 | bits;
    }
  }
}

static void start_pass_fast(j_decompress_ptr cinfo) {
  fast_decoder* decoder = (fast_decoder*)cinfo->entropy;
  start_pass_huff_decoder(cinfo);
  for (int ci = 0; ci < cinfo->comps_in_scan; ci++) {
    int tbl = cinfo->cur_comp_info[ci]->ac_tbl_no;
    make_fast_ac(decoder->base.ac_derived_tbls[tbl], decoder->fast_ac[tbl]);
  }
  for (int blkn = 0; blkn < cinfo->blocks_in_MCU; blkn++)
    decoder->fast_cur[blkn] =
        decoder->fast_ac[cinfo->cur_comp_info[cinfo->MCU_membership[blkn]]->ac_tbl_no];
}

/* jdhuff.c's decode_mcu_fast with the shorter AC step. */
static boolean fast_mcu(j_decompress_ptr cinfo, JBLOCKROW* MCU_data) {
  fast_decoder* decoder = (fast_decoder*)cinfo->entropy;
  huff_entropy_ptr entropy = &decoder->base;
  BITREAD_STATE_VARS;
  BITREAD_LOAD_STATE(cinfo, entropy->bitstate);
  JOCTET* buffer = (JOCTET*)br_state.next_input_byte;
  savable_state state = entropy->saved;
  for (int blkn = 0; blkn < cinfo->blocks_in_MCU; blkn++) {
    JBLOCKROW block = MCU_data ? MCU_data[blkn] : NULL;
    d_derived_tbl *dctbl = entropy->dc_cur_tbls[blkn], *actbl = entropy->ac_cur_tbls[blkn];
    boolean keep = entropy->ac_needed[blkn] && block;
    const int32_t* fast = keep ? decoder->fast_cur[blkn] : no_fast_ac;
    int s, k, r, l;
    HUFF_DECODE_FAST(s, l, dctbl);
    if (s) {
      FILL_BIT_BUFFER_FAST
      r = GET_BITS(s);
      s = HUFF_EXTEND(r, s);
    }
    if (entropy->dc_needed[blkn]) {
      int ci = cinfo->MCU_membership[blkn];
      s += state.last_dc_val[ci];
      state.last_dc_val[ci] = s;
      if (block)
        (*block)[0] = (JCOEF)s;
    }
    for (k = 1; k < DCTSIZE2; k++) {
      FILL_BIT_BUFFER_FAST
      int32_t f = fast[PEEK_BITS(HUFF_LOOKAHEAD)];
      if (f) { /* the refill above left more than 16 bits */
        k += (f >> 8) & 15;
        DROP_BITS(f & 15);
        (*block)[jpeg_natural_order[k]] = (JCOEF)(f >> 16);
        continue;
      }
      HUFF_DECODE_FAST(s, l, actbl);
      r = s >> 4;
      s &= 15;
      if (s) {
        k += r;
        FILL_BIT_BUFFER_FAST
        r = GET_BITS(s);
        if (keep)
          (*block)[jpeg_natural_order[k]] = (JCOEF)HUFF_EXTEND(r, s);
      } else {
        if (r != 15)
          break;
        k += 15;
      }
    }
  }
  if (cinfo->unread_marker != 0) {
    cinfo->unread_marker = 0;
    return FALSE;
  }
  br_state.bytes_in_buffer -= (buffer - br_state.next_input_byte);
  br_state.next_input_byte = buffer;
  BITREAD_SAVE_STATE(cinfo, entropy->bitstate);
  entropy->saved = state;
  return TRUE;
}

/* jdhuff.c's decode_mcu, calling fast_mcu for its fast path. */
static boolean decode_mcu_fast_ac(j_decompress_ptr cinfo, JBLOCKROW* MCU_data) {
  huff_entropy_ptr entropy = (huff_entropy_ptr)cinfo->entropy;
  boolean fast = TRUE;
  if (cinfo->restart_interval) {
    if (entropy->restarts_to_go == 0 && !process_restart(cinfo))
      return FALSE;
    fast = FALSE;
  }
  if (cinfo->src->bytes_in_buffer < BUFSIZE * (size_t)cinfo->blocks_in_MCU ||
      cinfo->unread_marker != 0)
    fast = FALSE;
  /* out of data: the MCU is left zero (grey) */
  if (!entropy->pub.insufficient_data && !(fast && fast_mcu(cinfo, MCU_data)) &&
      !decode_mcu_slow(cinfo, MCU_data))
    return FALSE;
  if (cinfo->restart_interval)
    entropy->restarts_to_go--;
  return TRUE;
}

EXTERN(void) jinit_huff_decoder(j_decompress_ptr cinfo);

GLOBAL(void) jinit_huff_decoder(j_decompress_ptr cinfo) {
  jinit_huff_decoder_libjpeg(cinfo);
  fast_decoder* decoder = (fast_decoder*)(*cinfo->mem->alloc_small)(
      (j_common_ptr)cinfo, JPOOL_IMAGE, sizeof(fast_decoder));
  decoder->base = *(huff_entropy_ptr)cinfo->entropy;
  decoder->base.pub.start_pass = start_pass_fast;
  decoder->base.pub.decode_mcu = decode_mcu_fast_ac;
  cinfo->entropy = &decoder->base.pub;
}
