/* libjpeg-turbo's simd/arm/jfdctfst-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jfdctfst-neon.c"
#endif
