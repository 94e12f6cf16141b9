/* libjpeg-turbo's simd/arm/jcphuff-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jcphuff-neon.c"
#endif
