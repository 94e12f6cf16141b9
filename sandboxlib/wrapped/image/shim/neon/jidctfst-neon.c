/* libjpeg-turbo's simd/arm/jidctfst-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jidctfst-neon.c"
#endif
