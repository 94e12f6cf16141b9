/* libjpeg-turbo's simd/arm/jcgray-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jcgray-neon.c"
#endif
