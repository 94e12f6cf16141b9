/* Every wasm SIMD instruction, one probe function per op, run over buffers of inputs:
   tests/test_simd_ops.py runs each op on wasmtime (the reference) and on wasm2c built
   for each processor level, and compares the results bit for bit. An op is chosen by its
   index in its group; simd_names lists the ops of each group in order. */
#include <stddef.h>
#include <stdint.h>

/* The ops' names, one line per group ("group: name name ..."), copied to out (at most
   cap bytes); returns the length of the whole text. */
size_t simd_names(uint8_t* out, size_t cap);
/* Op number op of the vector group on the n 16-byte blocks at a, b and c (an op of one
   or two operands ignores the others), each result written to out (n blocks). */
void simd_vector(size_t op, const uint8_t* a, const uint8_t* b, const uint8_t* c, uint8_t* out,
                 size_t n);
/* Op number op of the scalar-operand group (shifts, splats, lane replacements) on the
   n blocks at a and the n 64-bit scalars at s, each result written to out (n blocks). */
void simd_scalar_in(size_t op, const uint8_t* a, const uint64_t* s, uint8_t* out, size_t n);
/* Op number op of the scalar-result group (lane extractions, bitmasks, all_true,
   any_true) on the n blocks at a, each result written to out (n 64-bit words). */
void simd_scalar_out(size_t op, const uint8_t* a, uint64_t* out, size_t n);
/* Op number op of the memory group (loads and stores, whole, lanes, splat, zero,
   extend): block i loads from in + i (any alignment) or stores block i of in into
   block i of out, which holds 0xa5 bytes elsewhere (n blocks at in and at out). */
void simd_memory(size_t op, const uint8_t* in, uint8_t* out, size_t n);
