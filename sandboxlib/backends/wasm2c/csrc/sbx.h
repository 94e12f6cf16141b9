/* sandboxlib: the instance layout (wasm2c's module struct followed by our state) and
   the hooks' declarations, shared by the translated module (hooks.h) and the shim
   (runtime.c). */
#ifndef SBX_H
#define SBX_H
#include "_clock.h"
#include "module.h" /* the translated module's header (wasm2c -n m: w2c_m) */
#include "traps.h"

typedef struct sbx_cb sbx_cb;

typedef struct {
  uintptr_t stack_limit;    /* lowest native stack address the running call may use */
  uint64_t max_pages;       /* memory limit of this sandbox, in wasm pages */
  uint32_t max_table;       /* most elements any table of this sandbox may hold */
  uintptr_t handle;         /* key of the Python object in the backend's registry */
  uint32_t depth;           /* calls into this instance now on the stack (one thread) */
  uint32_t users;           /* calls and table updates in progress, from any thread (atomic) */
  uint32_t trap;            /* trap code of the last call, 0 if it returned */
  uint32_t closed;          /* 0 open, 1 closing (released when unused), 2 released (atomic) */
  uint32_t pins;            /* host buffers over the memory still alive (under sbx_pin_lock) */
  uint32_t refs;            /* Python's reference and the pins': freed at 0 (sbx_pin_lock) */
  uint32_t memory_orphaned; /* released while pinned: the last unpin frees the memory */
  wasm_rt_memory_t* memory; /* the linear memory while it is mapped */
  sbx_cb* callbacks;        /* every callback record ever made, freed at release */
  volatile int64_t fuel;    /* metered builds: units left (a call or a loop iteration each) */
  uint64_t timeout;         /* clock ticks an outermost call may run (0: no time limit) */
  /* The running outermost call's stop word, which compiled code tests (SBX_METER), and
     what sets it (_clock.h): its time limit (watch.until), a signal, interrupt(). */
  sbx_watch watch;
  uint32_t main;       /* the running outermost call is the main thread's */
  uint32_t turn;       /* held by interrupt() and an outermost call's entry (atomic) */
  const char* trap_in; /* the C name of the function the last trap happened in, or NULL */
} sbx_state;

/* The process's clock of deadlines and record of signals (sandboxlib._boundary's
   CLOCK): it lists timed calls, and its signal handler walks the main thread's. */
extern sbx_clock* sbx_clocks;

/* A host callback in a table slot. Records belong to their instance and live until
   it is released, so a slot (or a copy of it the module made) never points at
   freed memory; a removed record, or one of a closed instance, traps. */
struct sbx_cb {
  sbx_state* owner;
  uint32_t index; /* the slot it was registered in: its key in Python */
  volatile uint32_t removed;
  void* target; /* the compiled callback (sandboxlib._boundary.Callback) */
  sbx_cb* next;
};

typedef struct {
  w2c_m module;
  sbx_state state;
} sbx_instance;

#define SBX_STATE(inst) (&((sbx_instance*)(inst))->state)

#if defined(__x86_64__)
#define SBX_SP()                           \
  ({                                       \
    uintptr_t sp_;                         \
    __asm__("movq %%rsp, %0" : "=r"(sp_)); \
    sp_;                                   \
  })
#elif defined(__aarch64__)
#define SBX_SP()                       \
  ({                                   \
    uintptr_t sp_;                     \
    __asm__("mov %0, sp" : "=r"(sp_)); \
    sp_;                               \
  })
#else
#define SBX_SP() ((uintptr_t)__builtin_frame_address(0))
#endif

void sbx_trap(wasm_rt_trap_t code) __attribute__((noreturn));
/* A trap in the translated function `fn` (its C name, w2c_m_<mangled wasm name>). */
void sbx_trap_in(wasm_rt_trap_t code, const char* fn) __attribute__((noreturn));
/* Throw the loaded exception from the translated function `fn` (wasm_rt_throw: hooks.h);
   with no `try` to catch it, an uncaught-exception trap in `fn`. */
void sbx_throw_in(const char* fn) __attribute__((noreturn));
/* A check of the running call fired: trap (fuel, time, interrupt(), a signal). Every
   firing is a stop (runtime.c's sbx_enter and sbx_interrupt keep it so), so compiled
   code has no path from it back into a loop. */
void sbx_attend(sbx_state* st) __attribute__((noreturn));
bool sbx_call_indirect_failed(const wasm_rt_funcref_table_t* table, wasm_rt_func_type_t expected,
                              u64 index, const char* fn);
void sbx_allocate_memory(sbx_state* st, wasm_rt_memory_t* mem, uint64_t initial, uint64_t max,
                         bool is64, uint32_t page_size);
uint64_t sbx_grow_memory(wasm_rt_memory_t* mem, uint64_t delta);
void sbx_free_memory(sbx_state* st, wasm_rt_memory_t* mem);
void sbx_allocate_funcref_table(sbx_state* st, wasm_rt_funcref_table_t* table, uint32_t elements,
                                uint32_t max);
void sbx_allocate_externref_table(sbx_state* st, wasm_rt_externref_table_t* table,
                                  uint32_t elements, uint32_t max);
#endif
