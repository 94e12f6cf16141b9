/* jdphuff.c (progressive) with a 64-bit bit buffer in wasm32 (see huff64.h). */
#include "huff64.h"
#include "jdphuff.c"
