/* libjpeg-turbo's no-SIMD stubs in the native build only (see jpeg.toml). */
#ifndef __wasm__
#include "jsimd_none.c"
#endif
