/* stb_image's implementation, compiled once into the module: decoding from memory only
   (STBI_NO_STDIO: a sandbox has no files unless granted). */
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"
