/* Definitions whose types differ from their declarations in hostile.h, as in a
 * module built by an attacker: this file deliberately does not include it.
 * The hostile_raw_* functions return any 32-bit value where the header promises
 * a narrower type; hostile_wrong_export takes and returns i64 instead of i32. */
#include <stdint.h>

uint32_t hostile_raw_i8(uint32_t raw) { return raw; }
uint32_t hostile_raw_u8(uint32_t raw) { return raw; }
uint32_t hostile_raw_i16(uint32_t raw) { return raw; }
uint32_t hostile_raw_u16(uint32_t raw) { return raw; }
uint32_t hostile_raw_char(uint32_t raw) { return raw; }
uint32_t hostile_raw_bool(uint32_t raw) { return raw; }
int64_t hostile_wrong_export(int64_t v) { return v; }
