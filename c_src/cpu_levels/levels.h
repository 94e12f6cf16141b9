/* Probes of the wasm operations whose translation differs most between the processor
   levels the wasm2c backend builds for (toolchain/cpu.py): tests/test_cpu_levels.py
   runs each on wasm2c built for each level and on wasmtime, and compares. */
#include <stddef.h>
#include <stdint.h>

/* a * b + c, each operation rounded (a wasm f64.mul then f64.add). */
double levels_muladd(double a, double b, double c);
/* a * b + c in single precision. */
float levels_muladdf(float a, float b, float c);
/* The n 32-bit words at in, each turned into one of bit counts, rounding, minimum and
   maximum and saturating conversions (scalar and SIMD), written to out (4 words each). */
void levels_scalar(const uint32_t* in, uint32_t* out, size_t n);
/* The n 16-byte blocks at in, each combined with the next one (the last with the
   first) by SIMD operations, written to out (n blocks). */
void levels_simd(const uint8_t* in, uint8_t* out, size_t n);
