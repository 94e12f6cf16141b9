/* libpng's default configuration, which its CMake and configure builds copy to
   pnglibconf.h when no options are changed. */
#include "scripts/pnglibconf.h.prebuilt"
