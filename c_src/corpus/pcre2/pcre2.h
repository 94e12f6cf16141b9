/* What CMake makes of src/pcre2.h.generic for the 8-bit library: a copy. */
#include "pcre2.h.generic"
