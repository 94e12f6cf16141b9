#include "hostile_import.h"

__attribute__((import_module("env"), import_name("host_secret"))) int32_t host_secret(void);

int32_t hostile_import_secret(void) { return host_secret(); }
