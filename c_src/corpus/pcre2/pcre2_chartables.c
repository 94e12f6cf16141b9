/* src/pcre2_chartables.c.dist, which the build copies to pcre2_chartables.c. */
#include "pcre2_chartables.c.dist"
