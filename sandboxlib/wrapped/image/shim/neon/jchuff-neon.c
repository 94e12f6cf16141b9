/* libjpeg-turbo's Neon Huffman encoder is Arm inline assembly: the wasm build has this
   stand-in, which traps. Nothing reaches it: the module only decodes (shim/image.h). */
#ifdef __wasm__
#include <stdlib.h>

unsigned char* jsimd_huff_encode_one_block_neon(void* state, unsigned char* buffer, short* block,
                                                int last_dc_val, void* dctbl, void* actbl) {
  (void)state, (void)buffer, (void)block, (void)last_dc_val, (void)dctbl, (void)actbl;
  abort();
}
#endif
