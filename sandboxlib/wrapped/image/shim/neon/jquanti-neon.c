/* libjpeg-turbo's simd/arm/jquanti-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jquanti-neon.c"
#endif
