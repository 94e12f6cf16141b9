/* What CMake makes of src/pcre2_chartables.c.dist without dftables: a copy. */
#include "pcre2_chartables.c.dist"
