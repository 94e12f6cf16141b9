/* stb_image's implementation, as the drop-in compiles it (decoding from memory only). */
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"
