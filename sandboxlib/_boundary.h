/* sandboxlib: what the compiled boundary (sandboxlib._boundary) asks of a backend in C,
   and what it offers one. It names no backend: each backend's adapter (in its own
   folder under sandboxlib/backends/) provides these forms. */
#ifndef SBX_BOUNDARY_H
#define SBX_BOUNDARY_H
#include <stdint.h>

/* One raw value: an argument, or the result in slot 0. */
typedef union {
  int32_t i32;
  uint32_t u32;
  int64_t i64;
  uint64_t u64;
  float f32;
  double f64;
} sbx_val;

#define SBX_MAX_PARAMS 64

/* A backend's call of one function of one instance: the arguments in v, the result
   into v[0]; 0, or non-zero when the call failed (the backend's Python `failed(code)`
   then raises what it means). Called without the GIL. A call made while another of
   the same instance runs (from a callback) is nested: deadlines start at the
   outermost one. */
typedef int (*sbx_call_fn)(void* ctx, sbx_val* v);

/* Where an instance's memory is now, and its size in bytes. */
typedef void (*sbx_region_fn)(void* ctx, uint8_t** base, uint64_t* size);

/* The boundary's dispatcher of callbacks (its address is CALLBACK_DISPATCH): a
   backend's trampoline passes the Callback it was registered with and the raw
   arguments; the result comes back in v[0]. Takes the GIL itself. */
typedef int (*sbx_dispatch_fn)(void* target, sbx_val* v);
enum {
  SBX_CALLBACK_OK = 0,
  SBX_CALLBACK_FAILED = 1,  /* it raised: the exception waits for the running call */
  SBX_CALLBACK_REMOVED = 2, /* a call to an unregistered callback: trap */
};

/* The clock of deadlines: sandboxlib._boundary's CLOCK_TICKS is the address of a
   `volatile uint64_t` one thread advances every CLOCK_TICK_SECONDS once start_clock()
   was called. A backend with time limits reads it in compiled code: a call's deadline
   is the tick its outermost call started at plus its limit. */

#endif
