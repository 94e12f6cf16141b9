/* libjpeg-turbo's simd/arm/jidctred-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jidctred-neon.c"
#endif
