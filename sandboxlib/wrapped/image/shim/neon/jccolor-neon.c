/* libjpeg-turbo's simd/arm/jccolor-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jccolor-neon.c"
#endif
