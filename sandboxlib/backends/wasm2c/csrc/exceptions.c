/* sandboxlib: wasm-rt's exception API (wasm-rt-exceptions.h), which the translated code
   of a module with exception handling calls (C's setjmp/longjmp: a throw of one [i32]
   tag). A `try` pushes its jump buffer as the thread's unwind target and a throw
   (wasm_rt_throw, which hooks.h makes sbx_throw_in with the throwing function's name)
   jumps to the innermost one. Unlike wasm-rt's own, a throw with no target traps
   (WASM_RT_TRAP_UNCAUGHT_EXCEPTION in that function, to the call's trap frame) instead
   of jumping through a null pointer; and every call into an instance starts with no target
   (sbx_enter saves the caller's, sbx_leave puts it back: runtime.c, which includes this file for a
   module with exceptions), so an exception never unwinds past the host frames of a
   callback into code that called the host. */
#include <string.h>
#include "sbx.h"
#include "wasm-rt-exceptions.h"

static __thread wasm_rt_tag_t sbx_exn_tag;
static __thread uint32_t sbx_exn_size;
static __thread uint8_t sbx_exn_data[WASM_EXN_MAX_SIZE];
static __thread WASM_RT_UNWIND_TARGET* sbx_unwind_target;

void wasm_rt_load_exception(const wasm_rt_tag_t tag, uint32_t size, const void* values) {
  if (size > WASM_EXN_MAX_SIZE)
    sbx_trap(WASM_RT_TRAP_EXHAUSTION);
  sbx_exn_tag = tag;
  sbx_exn_size = size;
  if (size)
    memcpy(sbx_exn_data, values, size);
}

void sbx_throw_in(const char* fn) {
  WASM_RT_UNWIND_TARGET* target = sbx_unwind_target;
  if (!target)
    sbx_trap_in(WASM_RT_TRAP_UNCAUGHT_EXCEPTION, fn);
  WASM_RT_LONGJMP(*target, WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
}

WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) {
  return sbx_unwind_target;
}

void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target) {
  sbx_unwind_target = target;
}

wasm_rt_tag_t wasm_rt_exception_tag(void) {
  return sbx_exn_tag;
}

uint32_t wasm_rt_exception_size(void) {
  return sbx_exn_size;
}

void* wasm_rt_exception(void) {
  return sbx_exn_data;
}
