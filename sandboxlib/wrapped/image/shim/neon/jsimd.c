/* libjpeg-turbo's simd/arm/aarch32/jsimd.c in the wasm build only (see jpeg.toml). */
#ifdef __wasm__
#include "simd/arm/aarch32/jsimd.c"
#endif
