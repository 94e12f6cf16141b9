/* sandboxlib: the fixed part of the shim between cffi and the translated module
   (shim.py includes it before the part it generates per module: a wrapper per export,
   a stub per WASI import, a trampoline per callback signature). Trap frames (a
   sigsetjmp per call, a thread-local chain so nested and concurrent calls unwind to
   the right place), call entry and exit, the instance's lifetime, and the hooks that
   hooks.h routes the module's memory and table allocation to.

   Memory accesses are bounds-checked by wasm2c (WASM_RT_MEMCHECK_BOUNDS_CHECK): no
   signal handler is installed, so the process's own SIGSEGV handling (faulthandler,
   a user's handler) is never touched. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "_boundary.h" /* sbx_val, the value array of a uniform entry */
#include "_slab.h"
#include "sbx.h"

#if SBX_EXCEPTIONS /* the module throws (setjmp/longjmp): the shim defines SBX_EXCEPTIONS */
#include "exceptions.c"
#define SBX_UNWIND_SAVE(f) ((f)->unwind = sbx_unwind_target, sbx_unwind_target = NULL)
#define SBX_UNWIND_RESTORE(f) (sbx_unwind_target = (f)->unwind)
#else
typedef void WASM_RT_UNWIND_TARGET;
#define SBX_UNWIND_SAVE(f) ((void)0)
#define SBX_UNWIND_RESTORE(f) ((void)0)
#endif

/* Native stack a call may use (wasmtime allows 512 KiB of its larger frames), and
   what is kept free under it for host functions the sandbox calls. */
#define SBX_STACK_BUDGET ((uintptr_t)256 << 10)
#define SBX_STACK_RESERVE ((uintptr_t)128 << 10)

typedef struct sbx_frame {
  sigjmp_buf buf;
  struct sbx_frame* prev;
  WASM_RT_UNWIND_TARGET* unwind; /* the caller's innermost wasm `try` (exceptions.c) */
  volatile int code;
  const char* volatile in; /* the function a trap happened in (sbx_trap_in), or NULL */
} sbx_frame;

/* Segue (x86_64_v3 builds: _csrc.py): the module's code reaches its memory through the
   GS segment, whose base must be the memory's start whenever that code runs. GS is the
   thread's, and nothing else in the process uses it, so it is set only where code of
   the module may start or resume with another base there: as each call from the host
   enters (sbx_enter_gs, after which wasm2c's export wrapper finds it set), and after
   each import and callback into Python (shim.py), whose host code may have called
   another sandbox or moved GS itself (the base read before, set again after). It is
   left as it is when a call returns or traps: the next entry sets it if it differs, one
   compare where the same sandbox is called again (a write costs about 20 ns here).
   wasm2c's runtime keeps the base it last wrote in a thread-local of this extension
   (WASM_RT_SEGUE_FREE_SEGMENT) and skips a write of the same, so each of those places
   sets it too. translate.py leaves out wasm2c's writes after each call_indirect and
   memory.grow: a memory never moves, and host code a call_indirect reaches restores the
   base itself. Without the FSGSBASE instructions (which the level needs:
   toolchain/cpu.py) wasm2c's runtime sets it by a system call. */
#if WASM_RT_USE_SEGUE
#include <sys/auxv.h>
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1u << 1)
#endif
__attribute__((constructor)) static void sbx_find_fsgsbase(void) {
  wasm_rt_fsgsbase_inst_supported = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
}

static inline void* sbx_gs_base(void) {
  return wasm_rt_fsgsbase_inst_supported ? (void*)__builtin_ia32_rdgsbase64()
                                         : wasm_rt_syscall_get_segue_base();
}

/* GS's base made `base` (written only if it is not), and wasm2c's record of it. */
static inline void sbx_set_gs_base(void* base) {
  if (sbx_gs_base() != base) {
    if (wasm_rt_fsgsbase_inst_supported)
      __builtin_ia32_wrgsbase64((uintptr_t)base);
    else
      wasm_rt_syscall_set_segue_base(base);
  }
  wasm_rt_last_segment_val = base;
}

/* As a call from the host enters s: GS based at its memory. Instantiation, before the
   memory is there, sets it itself once it is (wasm2c's record made true first: another
   sandbox's memory may have had the same address). */
static inline void sbx_enter_gs(sbx_instance* s) {
  void* memory = s->module.w2c_memory.data;
  if (memory)
    sbx_set_gs_base(memory);
  else
    wasm_rt_last_segment_val = sbx_gs_base();
}
#else
static inline void* sbx_gs_base(void) {
  return NULL;
}

static inline void sbx_set_gs_base(void* base) {
  (void)base;
}

static inline void sbx_enter_gs(sbx_instance* s) {
  (void)s;
}
#endif


/* Run `body` (which calls into wasm) in a trap frame; `refused` runs instead if
   the call cannot start. The trap code is left in s->state.trap. Every call from the
   host compares the clock with the deadline first (prologues.py leaves that check
   out of functions that cannot repeat): a call from a callback runs under the outer
   call's deadline and stops at its entry once that is past. */
#define SBX_CALL(s, refused, body)     \
  sbx_frame f_;                        \
  int code_ = sbx_enter(s, &f_);       \
  if (code_) {                         \
    (s)->state.trap = (uint32_t)code_; \
    refused;                           \
  }                                    \
  f_.code = 0;                         \
  f_.in = NULL;                        \
  if (sigsetjmp(f_.buf, 0) == 0) {     \
    sbx_enter_gs(s);                   \
    sbx_check_entry(&(s)->state);      \
    body;                              \
  }                                    \
  sbx_leave(s, &f_);

static void sbx_check_entry(sbx_state* st) {
#if SBX_METERED
  if (__builtin_expect(st->watch.stop != 0, 0))
    sbx_attend(st);
#else
  (void)st;
#endif
}

static __thread sbx_frame* sbx_top;        /* innermost call on this thread */
static __thread uintptr_t sbx_stack_floor; /* lowest usable address, per thread */

static int64_t sbx_py_import(uintptr_t handle, int index, sbx_val* values);
/* sandboxlib._boundary's dispatcher: runs a callback on its raw values (0: done,
   2: removed, else: it raised and the exception waits for the call's caller). */
static sbx_dispatch_fn sbx_dispatch;

void sbx_set_dispatch(uintptr_t dispatch) {
  sbx_dispatch = (sbx_dispatch_fn)dispatch;
}

void sbx_trap_in(wasm_rt_trap_t code, const char* fn) {
  sbx_frame* f = sbx_top;
  if (!f)
    abort(); /* only reachable from wasm code, which runs inside a frame */
  f->code = (int)code;
  f->in = fn;
  siglongjmp(f->buf, 1);
}

void sbx_trap(wasm_rt_trap_t code) {
  sbx_trap_in(code, NULL);
}

/* An active data segment kept out of wasm2c's C (datasegments.py). */
typedef struct {
  uint32_t offset;
  uint32_t size;
  const uint8_t* bytes;
} sbx_segment;

/* Copy the module's active data segments into its memory, in order, as instantiation
   does: one that does not fit the memory traps (out of bounds). */
static void sbx_load_segments(wasm_rt_memory_t* m, const sbx_segment* segs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if ((uint64_t)segs[i].offset + segs[i].size > m->size)
      sbx_trap((wasm_rt_trap_t)WASM_RT_TRAP_OOB);
    memcpy(m->data + segs[i].offset, segs[i].bytes, segs[i].size);
  }
}

static uintptr_t sbx_thread_floor(void) {
  if (!sbx_stack_floor) {
    uintptr_t low = 0;
#if defined(__GLIBC__)
    pthread_attr_t attr;
    void* addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      if (pthread_attr_getstack(&attr, &addr, &size) == 0)
        low = (uintptr_t)addr;
      pthread_attr_destroy(&attr);
    }
#endif
    sbx_stack_floor = low + SBX_STACK_RESERVE;
  }
  return sbx_stack_floor;
}

/* Lifetime: an instance closed while in use (a host callback closed it, or another
   thread did) is released by whoever stops using it last. `users` and `closed` are
   sequentially consistent atomics: a user that saw the instance open is counted
   before close() looks, so memory and tables are never freed under running code. */
static void sbx_release(sbx_instance* s) {
  wasm2c_m_free(&s->module);
  for (sbx_cb *cb = s->state.callbacks, *next; cb; cb = next) {
    next = cb->next;
    free(cb);
  }
  s->state.callbacks = NULL;
}

static void sbx_try_release(sbx_instance* s) {
  uint32_t closing = 1;
  if (__atomic_load_n(&s->state.users, __ATOMIC_SEQ_CST) == 0 &&
      __atomic_compare_exchange_n(&s->state.closed, &closing, 2, false, __ATOMIC_SEQ_CST,
                                  __ATOMIC_SEQ_CST))
    sbx_release(s);
}

/* Count a user of s; 0 (and no user counted) if s is closed. */
static int sbx_hold(sbx_instance* s) {
  __atomic_add_fetch(&s->state.users, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&s->state.closed, __ATOMIC_SEQ_CST) == 0)
    return 1;
  if (__atomic_sub_fetch(&s->state.users, 1, __ATOMIC_SEQ_CST) == 0)
    sbx_try_release(s);
  return 0;
}

static void sbx_drop(sbx_instance* s) {
  if (__atomic_sub_fetch(&s->state.users, 1, __ATOMIC_SEQ_CST) == 0)
    sbx_try_release(s);
}

/* interrupt() and an outermost call's entry take turns: an interrupt() stops the call
   it saw running, or none, never one that started after it looked (the entry clears
   the stop word). Both hold it for a few stores. */
static void sbx_take_turn(sbx_state* st) {
  while (__atomic_exchange_n(&st->turn, 1, __ATOMIC_ACQUIRE))
    sched_yield();
}

static void sbx_end_turn(sbx_state* st) {
  __atomic_store_n(&st->turn, 0, __ATOMIC_RELEASE);
}

/* Push a frame for a call into s; returns a trap code if the call cannot start. */
static int sbx_enter(sbx_instance* s, sbx_frame* f) {
  sbx_state* st = &s->state;
  if (!sbx_hold(s))
    return SBX_TRAP_CLOSED;
  if (st->depth == 0) { /* the outermost call: its stop word; nested ones run under it */
    uintptr_t here = SBX_SP(), floor = sbx_thread_floor();
    if (here <= floor) {
      sbx_drop(s);
      return SBX_TRAP_STACK;
    }
    sbx_take_turn(st);
    __atomic_store_n(&st->watch.stop, 0, __ATOMIC_SEQ_CST);
    sbx_end_turn(st);
    /* Only a watched signal that comes while it runs stops it (one before: Python runs
       its handler between bytecodes), so it joins the main thread's calls now. */
    st->main = sbx_clocks->main_thread == (uint64_t)pthread_self();
    if (st->main)
      sbx_clock_push_main(sbx_clocks, &st->watch);
    st->watch.until = st->timeout ? sbx_clocks->ticks + st->timeout : SBX_NEVER;
    if (st->timeout && sbx_clocks->watch)
      sbx_clocks->watch(&st->watch, 1);
    st->stack_limit = here - floor > SBX_STACK_BUDGET ? here - SBX_STACK_BUDGET : floor;
  }
  st->depth++;
  f->prev = sbx_top;
  sbx_top = f;
  SBX_UNWIND_SAVE(f); /* a throw this call does not catch traps, never unwinding past it */
  return 0;
}

static void sbx_leave(sbx_instance* s, sbx_frame* f) {
  SBX_UNWIND_RESTORE(f); /* a trap may have left a dead `try`'s target there */
  sbx_top = f->prev;
  s->state.trap = (uint32_t)f->code;
  s->state.trap_in = f->in;
  if (s->state.depth == 1) { /* the outermost call ends: nothing stops it any more */
    if (s->state.timeout && sbx_clocks->watch)
      sbx_clocks->watch(&s->state.watch, 0);
    if (s->state.main)
      sbx_clock_pop_main(sbx_clocks, &s->state.watch);
  }
  s->state.depth--;
  sbx_drop(s);
}

bool sbx_call_indirect_failed(const wasm_rt_funcref_table_t* table, wasm_rt_func_type_t expected,
                              u64 index, const char* fn) {
  if (index >= table->size)
    sbx_trap_in((wasm_rt_trap_t)SBX_TRAP_TABLE, fn);
  const wasm_rt_funcref_t* ref = &table->data[index];
  if (!ref->func)
    sbx_trap_in((wasm_rt_trap_t)SBX_TRAP_NULL, fn);
  if (!expected || !ref->func_type || memcmp(expected, ref->func_type, 32) != 0)
    sbx_trap_in((wasm_rt_trap_t)SBX_TRAP_TYPE, fn);
  return true;
}

/* Linear memory: a slot of sandboxlib._slab (one per sandbox, sized for its limit, so
   the memory never moves), all zero, readable and writable; wasm2c's explicit bounds
   checks against the current size are what keep accesses inside it. A released slot
   is wiped by the allocator before it serves another sandbox. */
static const sbx_slab_api* sbx_slab;

/* Python hands over the allocator once the module is loaded; 0 if it does not fit. */
int sbx_use_slab(uintptr_t api) {
  const sbx_slab_api* a = (const sbx_slab_api*)api;
  if (!a || a->version != SBX_SLAB_VERSION)
    return 0;
  sbx_slab = a;
  return 1;
}

static pthread_mutex_t sbx_pin_lock = PTHREAD_MUTEX_INITIALIZER;

static void sbx_unmap_memory(wasm_rt_memory_t* mem) {
  if (mem->data)
    sbx_slab->give(mem->data, (size_t)(mem->data_end - mem->data), (size_t)mem->size);
  mem->data = mem->data_end = NULL;
  mem->pages = mem->size = 0;
}

/* A host buffer over the memory keeps it mapped, and its reservation out of reuse,
   until the buffer is gone, even past close(); it holds a reference to the
   instance too. 0 if the memory is already gone. */
int sbx_pin(sbx_instance* s) {
  pthread_mutex_lock(&sbx_pin_lock);
  int ok = s->state.memory != NULL && !s->state.memory_orphaned;
  if (ok) {
    s->state.pins++;
    s->state.refs++;
  }
  pthread_mutex_unlock(&sbx_pin_lock);
  return ok;
}

/* Drop one reference (Python's, or a pin's when `pin`); the last frees the instance. */
static void sbx_unref(sbx_instance* s, int pin) {
  wasm_rt_memory_t* orphan = NULL;
  pthread_mutex_lock(&sbx_pin_lock);
  if (pin && --s->state.pins == 0 && s->state.memory_orphaned) {
    orphan = s->state.memory;
    s->state.memory = NULL;
    s->state.memory_orphaned = 0;
  }
  int last = --s->state.refs == 0;
  pthread_mutex_unlock(&sbx_pin_lock);
  if (orphan)
    sbx_unmap_memory(orphan);
  if (last)
    free(s);
}

void sbx_unpin(sbx_instance* s) {
  sbx_unref(s, 1);
}

void sbx_free_memory(sbx_state* st, wasm_rt_memory_t* mem) {
  pthread_mutex_lock(&sbx_pin_lock);
  int pinned = st->pins > 0;
  if (pinned)
    st->memory_orphaned = 1;
  else
    st->memory = NULL;
  pthread_mutex_unlock(&sbx_pin_lock);
  if (!pinned)
    sbx_unmap_memory(mem);
}

/* Tables: none may hold more than the sandbox's limit, whatever the module declares
   (growth past it fails as growth past a declared maximum does). */
#define SBX_TABLE_ALLOCATOR(kind)                                                                \
  void sbx_allocate_##kind##_table(sbx_state* st, wasm_rt_##kind##_table_t* table,               \
                                   uint32_t elements, uint32_t max) {                            \
    if (elements > st->max_table)                                                                \
      sbx_trap((wasm_rt_trap_t)SBX_TRAP_TABLE_LIMIT);                                            \
    wasm_rt_allocate_##kind##_table(table, elements, max < st->max_table ? max : st->max_table); \
    if (elements && !table->data)                                                                \
      sbx_trap((wasm_rt_trap_t)SBX_TRAP_MEMORY);                                                 \
  }
SBX_TABLE_ALLOCATOR(funcref)
SBX_TABLE_ALLOCATOR(externref)

void sbx_allocate_memory(sbx_state* st, wasm_rt_memory_t* mem, uint64_t initial, uint64_t max,
                         bool is64, uint32_t page_size) {
  if (is64 || page_size != WASM_DEFAULT_PAGE_SIZE)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_UNSUPPORTED);
  uint64_t limit = max < st->max_pages ? max : st->max_pages;
  if (initial > limit)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_MEMORY);
  size_t reserve = (size_t)(limit ? limit : 1) * page_size;
  uint8_t* slot = sbx_slab->take(reserve);
  if (!slot)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_NO_ROOM);
  mem->data = slot;
  mem->data_end = slot + reserve;
  mem->page_size = page_size;
  mem->max_pages = limit;
  mem->is64 = false;
  mem->pages = initial;
  mem->size = initial * page_size;
  st->memory = mem;
}

uint64_t sbx_grow_memory(wasm_rt_memory_t* mem, uint64_t delta) {
  uint64_t old = mem->pages;
  if (delta == 0)
    return old;
  if (delta > mem->max_pages - old)
    return (uint64_t)-1;
  mem->pages = old + delta; /* the slot is zero past the old size: nothing to do */
  mem->size = mem->pages * mem->page_size;
  return old;
}

/* A new instance, not yet instantiated (sbx_instantiate, generated per module);
   `timeout`: clock ticks each outermost call may run (0: no time limit). */
sbx_instance* sbx_new(uint64_t max_pages, uint32_t max_table, uintptr_t handle, int64_t fuel,
                      uint64_t timeout) {
  sbx_instance* s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->state.max_pages = max_pages;
  s->state.max_table = max_table;
  s->state.refs = 1;
  s->state.handle = handle;
  s->state.fuel = fuel;
  s->state.timeout = timeout;
  s->state.watch.until = SBX_NEVER;
  return s;
}

sbx_state* sbx_state_of(sbx_instance* s) {
  return &s->state;
}

static sbx_clock sbx_no_clock; /* until sbx_set_clock: never a deadline */
sbx_clock* sbx_clocks = &sbx_no_clock;

void sbx_set_clock(uintptr_t clock) {
  sbx_clocks = (sbx_clock*)clock;
}

/* Whether the last (or running) call's time limit has passed. */
int sbx_interrupted(sbx_instance* s) {
  return sbx_clocks->ticks >= s->state.watch.until;
}

/* Why a check fired, which is always a stop: the stop word names its causes (fuel
   counts down in its own word). */
void sbx_attend(sbx_state* st) {
  uint32_t stop = __atomic_load_n(&st->watch.stop, __ATOMIC_SEQ_CST);
  if (st->fuel < 0)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_FUEL);
  if (stop & SBX_STOP_SIGNAL)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_SIGNAL);
  if (stop & SBX_STOP_TIME)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_FUEL);
  sbx_trap((wasm_rt_trap_t)SBX_TRAP_INTERRUPTED);
}

/* Stop the running call of s at its next check (from any thread); 0 if none runs. */
int sbx_interrupt(sbx_instance* s) {
  sbx_take_turn(&s->state);
  int running = __atomic_load_n(&s->state.depth, __ATOMIC_SEQ_CST) != 0;
  if (running)
    __atomic_or_fetch(&s->state.watch.stop, SBX_STOP_INTERRUPT, __ATOMIC_SEQ_CST);
  sbx_end_turn(&s->state);
  return running;
}

/* Free the instance's memory and tables now, or when its running calls return
   (a host callback may close the sandbox that called it). */
void sbx_close(sbx_instance* s) {
  uint32_t open = 0;
  if (__atomic_compare_exchange_n(&s->state.closed, &open, 1, false, __ATOMIC_SEQ_CST,
                                  __ATOMIC_SEQ_CST))
    sbx_try_release(s);
}

/* Python gives up the instance: closed now, freed with its last reference. */
void sbx_delete(sbx_instance* s) {
  sbx_close(s);
  sbx_unref(s, 0);
}
