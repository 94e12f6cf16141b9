/* libjpeg-turbo's simd/arm/jfdctint-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jfdctint-neon.c"
#endif
