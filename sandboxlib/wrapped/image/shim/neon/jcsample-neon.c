/* libjpeg-turbo's simd/arm/jcsample-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jcsample-neon.c"
#endif
