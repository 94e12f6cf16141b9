/* libjpeg-turbo's simd/arm/jidctint-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jidctint-neon.c"
#endif
