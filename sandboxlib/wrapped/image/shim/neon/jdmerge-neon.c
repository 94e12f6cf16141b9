/* libjpeg-turbo's simd/arm/jdmerge-neon.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/jdmerge-neon.c"
#endif
