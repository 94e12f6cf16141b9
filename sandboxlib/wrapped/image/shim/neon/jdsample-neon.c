/* libjpeg-turbo's simd/arm/jdsample-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jdsample-neon.c"
#endif
