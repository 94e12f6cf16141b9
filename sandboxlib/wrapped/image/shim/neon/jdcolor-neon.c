/* libjpeg-turbo's simd/arm/jdcolor-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jdcolor-neon.c"
#endif
