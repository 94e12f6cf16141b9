/* libjpeg-turbo's simd/arm/jdcolor-neon.c in the wasm build only (see jpeg.toml), its
   conversion to RGB renamed out of the way of shim/wasm/jdcolor-wasm.c's. */
#ifdef __wasm__
#define jsimd_ycc_extrgb_convert_neon jsimd_ycc_extrgb_convert_neon_replaced
#define jsimd_ycc_extrgbx_convert_neon jsimd_ycc_extrgbx_convert_neon_replaced
#include "simd/arm/jdcolor-neon.c"
#endif
