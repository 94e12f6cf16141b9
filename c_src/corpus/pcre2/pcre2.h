/* src/pcre2.h.generic, which NON-AUTOTOOLS-BUILD copies to pcre2.h. */
#include "pcre2.h.generic"
