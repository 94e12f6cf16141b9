/* sandboxlib: the hooks of the translated module. translate.py includes this file in
   wasm2c's module.c where wasm2c's own macros end (HOOKS_ANCHOR), so it redefines
   them, and the code after it (every function and instance set-up of the module) uses
   ours: a native stack budget check in function prologues, a call_indirect slow
   path that tells the failure apart, and memory and tables allocated by us (a slot of
   sandboxlib._slab sized for the sandbox's memory limit, never aborting the process).
   Builds also check in the prologues of the functions prologues.py picks (those that
   can recurse, and enough along chains of calls; every function in fuel builds) and,
   as translate.py puts SBX_METER before every loop back-edge (METER_AT) and in each
   round of a tail call's trampoline, every loop iteration: SBX_METERED=1 spends one unit of
   fuel there and tests the call's stop word, SBX_METERED=2 (the default: a time limit,
   interrupt() and Ctrl-C stop a call there) just tests it; SBX_METERED=0
   (Limits(interruptible=False)) checks nothing. Names used from module.c: `instance`
   (each function's first parameter), LIKELY, UNLIKELY. Every trap raised in a function's
   body names that function (`__func__`): translate.py makes each load and store SBX_CHECKED, which
   checks its bounds there (wasm2c's helper checks them again, which the compiler folds away), and
   a throw no `try` catches (wasm_rt_throw, exceptions.c) is raised there too, as are
   bulk memory's out-of-bounds traps (SBX_FILL, SBX_COPY, SBX_INIT: their ranges checked
   before wasm2c's helper checks them again). */
#ifndef SBX_HOOKS_H
#define SBX_HOOKS_H
#include "sbx.h"

/* SBX_METER is the head of the statement it guards (a loop's `goto`, a prologue's
   `{}`), which runs when the check does not fire. When it fires sbx_attend traps: it
   cannot return (sbx.h), so the compiler keeps no path from it back into the loop
   (instructions against a sbx_attend that could return: bzip2 -12%, Lua -2.8%, JPEG and
   lz4 -2%, expat -1.2%, pcre2 +0.8%, giflib +3.1%; README, issue 30).
   The check tests the running call's stop word in the instance (sbx.h: what sets it is
   in _clock.h), one compare with memory and a branch, no register held for it: against
   comparing the call's clock with its deadline, two loads and a pointer kept per
   function, expat's parse ran 3.7% fewer instructions (README, issue 30). */
#if SBX_METERED == 1
#define SBX_METER                                                                       \
  if (UNLIKELY(--SBX_STATE(instance)->fuel < 0 || SBX_STATE(instance)->watch.stop != 0) \
          ? (sbx_attend(SBX_STATE(instance)), 1)                                        \
          : 1)
#elif SBX_METERED == 2
#define SBX_METER \
  if (UNLIKELY(SBX_STATE(instance)->watch.stop != 0) ? (sbx_attend(SBX_STATE(instance)), 1) : 1)
#else
#define SBX_METER
#endif

/* The memory's size, read into a function's local: never below `least`, the module's
   initial memory (SBX_MIN_MEMORY, which translate.py defines) where a function starts,
   what it read before where it reads it again after a call: the memory only grows, and
   is released only when no call runs. The compiler then drops the check of an access it
   can place below that: static data at a constant address (a switch's table, a global
   variable), or what a check before the call passed. Were it ever wrong, such an access
   would still be inside the sandbox's slot, which holds the most it ever grew to. */
#define SBX_MEMORY_SIZE(mem, least)   \
  ({                                  \
    uint64_t sbx_size_ = (mem)->size; \
    if (sbx_size_ < (least))          \
      __builtin_unreachable();        \
    sbx_size_;                        \
  })

#undef TRAP
#define TRAP(x) (sbx_trap_in((wasm_rt_trap_t)WASM_RT_TRAP_##x, __func__), 0)

/* wasm2c's `name_default32(base, size, mem, addr, ...)` of an access of `width` bytes,
   whose out-of-bounds trap names the function `fn` it is in. */
#define SBX_CHECKED(name, width, fn, base, size, mem, addr, ...) \
  ({                                                             \
    u64 sbx_addr_ = (addr);                                      \
    if (UNLIKELY(sbx_addr_ + (width) > (size)))                  \
      sbx_trap_in((wasm_rt_trap_t)WASM_RT_TRAP_OOB, fn);         \
    name##_default32(base, size, mem, sbx_addr_, ##__VA_ARGS__); \
  })

/* Whether `n` bytes at `at` lie past `size`: an out-of-bounds trap naming `fn`. */
#define SBX_RANGE(fn, at, n, size)                  \
  if (UNLIKELY((u64)(at) + (u64)(n) > (u64)(size))) \
  sbx_trap_in((wasm_rt_trap_t)WASM_RT_TRAP_OOB, fn)

/* wasm2c's memory_fill, memory_copy and memory_init, in the function `fn`. Their
   arguments are variables and constants, so reading them twice is harmless. */
#define SBX_FILL(fn, mem, d, val, n)  \
  do {                                \
    SBX_RANGE(fn, d, n, (mem)->size); \
    memory_fill(mem, d, val, n);      \
  } while (0)
#define SBX_COPY(fn, dest, src, d, s, n) \
  do {                                   \
    SBX_RANGE(fn, d, n, (dest)->size);   \
    SBX_RANGE(fn, s, n, (src)->size);    \
    memory_copy(dest, src, d, s, n);     \
  } while (0)
#define SBX_INIT(fn, dest, src, src_size, d, s, n) \
  do {                                             \
    SBX_RANGE(fn, s, n, src_size);                 \
    SBX_RANGE(fn, d, n, (dest)->size);             \
    memory_init(dest, src, src_size, d, s, n);     \
  } while (0)

#define wasm_rt_throw() sbx_throw_in(__func__)

/* A function's prologue: the native stack check if `stack`, the stop check if `stop`
   or the build spends fuel on every call (prologues.py decides which a function needs;
   the constants fold). */
#define SBX_PROLOGUE(stack, stop)                                         \
  do {                                                                    \
    if ((stack) && UNLIKELY(SBX_SP() < SBX_STATE(instance)->stack_limit)) \
      sbx_trap_in((wasm_rt_trap_t)SBX_TRAP_STACK, __func__);              \
    if ((stop) || SBX_METERED == 1)                                       \
      SBX_METER {                                                         \
      }                                                                   \
  } while (0)
/* Before a function with the stack check that one without it calls (prologues.py). */
#define SBX_NOINLINE __attribute__((noinline))
#undef FUNC_PROLOGUE
#define FUNC_PROLOGUE SBX_PROLOGUE(1, 1)

#undef CHECK_CALL_INDIRECT
#define CHECK_CALL_INDIRECT(table, ft, x)                       \
  (LIKELY((x) < table.size && ft == table.data[x].func_type) || \
   sbx_call_indirect_failed(&(table), ft, x, __func__))

#define wasm_rt_allocate_memory(mem, initial, max, is64, page_size) \
  sbx_allocate_memory(SBX_STATE(instance), mem, initial, max, is64, page_size)
#define wasm_rt_grow_memory sbx_grow_memory
#define wasm_rt_free_memory(mem) sbx_free_memory(SBX_STATE(instance), mem)
#define wasm_rt_allocate_funcref_table(table, elements, max) \
  sbx_allocate_funcref_table(SBX_STATE(instance), table, elements, max)
#define wasm_rt_allocate_externref_table(table, elements, max) \
  sbx_allocate_externref_table(SBX_STATE(instance), table, elements, max)

#endif
