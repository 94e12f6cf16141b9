"""The hand-written C of the wasm2c backend, kept as text (it is written next to
the translated module and compiled with it).

- ``SBX_H``: the instance layout (the wasm2c module struct followed by our state)
  and the hooks the translated module calls.
- ``HOOKS``: inserted into the translated module after wasm2c's own macros: a
  native stack budget check in every function prologue, a call_indirect slow path
  that tells the failure apart, and linear memory allocated by us (a slot of
  ``sandboxlib._slab`` sized for the sandbox's memory limit, never aborting the
  process). Builds for sandboxes with a CPU limit also check at every call and loop
  back-edge (``METER_AT``):
  ``SBX_METERED=1`` spends one unit of fuel there, ``SBX_METERED=2`` (a time
  limit only) just reads the flag the watchdog raises, which costs less.
- ``RUNTIME``: the shim's fixed part: trap frames (``sigsetjmp`` per call, a
  thread-local chain so nested and concurrent calls unwind to the right place),
  call entry/exit, memory allocation and growth.

Memory accesses are bounds-checked by wasm2c (``WASM_RT_MEMCHECK_BOUNDS_CHECK``):
no signal handler is installed, so the process's own SIGSEGV handling
(faulthandler, a user's handler) is never touched.
"""

from ..base import RAW_VALUE_C

MODULE_NAME = "m"  # wasm2c -n: every generated symbol is w2c_m_* / wasm2c_m_*

DEFINES = (
    "WASM_RT_MEMCHECK_BOUNDS_CHECK=1",
    "WASM_RT_USE_MMAP=1",  # memory never moves: generated code keeps its base in a register
    # our own stack check replaces wasm-rt's call-depth counter
    "WASM_RT_NONCONFORMING_UNCHECKED_STACK_EXHAUSTION=1",
    "WASM_RT_TRAP_HANDLER=sbx_trap",
)
CFLAGS = ("-fvisibility=hidden", "-Wno-unused-function", "-Wno-unused-variable")

# Trap codes of our own, beside wasm-rt's (wasm_rt_trap_t values are small).
TRAPS = {
    "SBX_TRAP_STACK": 0x100,  # the native stack budget of the call is exhausted
    "SBX_TRAP_TABLE": 0x101,  # call_indirect past the end of the table
    "SBX_TRAP_NULL": 0x102,  # call_indirect to an empty slot
    "SBX_TRAP_TYPE": 0x103,  # call_indirect with the wrong signature
    "SBX_TRAP_HOST": 0x104,  # a host function raised; Python holds the exception
    "SBX_TRAP_EXIT": 0x105,  # the module called proc_exit
    "SBX_TRAP_CLOSED": 0x106,  # a call into a closed instance
    "SBX_TRAP_MEMORY": 0x107,  # initial memory above the limit
    "SBX_TRAP_UNSUPPORTED": 0x108,  # a 64-bit or custom-page-size memory
    "SBX_TRAP_FUEL": 0x109,  # fuel ran out, or the watchdog interrupted the call
    "SBX_TRAP_UNREGISTERED": 0x10A,  # a callback removed, or of a closed instance, was called
    "SBX_TRAP_TABLE_LIMIT": 0x10B,  # a table of the module is larger than the limit
    "SBX_TRAP_NO_ROOM": 0x10C,  # the machine has no room for the memory (see _slab.failure)
}

SBX_H = r"""/* sandboxlib: instance layout and hooks shared by the module and the shim. */
#ifndef SBX_H
#define SBX_H
#include "module.h"

@TRAPS@
typedef struct sbx_cb sbx_cb;

typedef struct {
  uintptr_t stack_limit; /* lowest native stack address the running call may use */
  uint64_t max_pages;    /* memory limit of this sandbox, in wasm pages */
  uint32_t max_table;    /* most elements any table of this sandbox may hold */
  uintptr_t handle;      /* key of the Python object in the backend's registry */
  uint32_t depth;        /* calls into this instance now on the stack (one thread) */
  uint32_t users;        /* calls and table updates in progress, from any thread (atomic) */
  uint32_t trap;         /* trap code of the last call, 0 if it returned */
  uint32_t closed;       /* 0 open, 1 closing (released when unused), 2 released (atomic) */
  uint32_t pins;         /* host buffers over the memory still alive (under sbx_pin_lock) */
  uint32_t refs;         /* Python's reference and the pins': freed at 0 (sbx_pin_lock) */
  uint32_t memory_orphaned; /* released while pinned: the last unpin frees the memory */
  wasm_rt_memory_t* memory; /* the linear memory while it is mapped */
  sbx_cb* callbacks;     /* every callback record ever made, freed at release */
  volatile int64_t fuel; /* metered builds: units left (a call or a loop iteration each) */
  int64_t fuel_saved;    /* fuel when the watchdog interrupted */
  volatile uint32_t interrupted;
} sbx_state;

/* A host callback in a table slot. Records belong to their instance and live until
   it is released, so a slot (or a copy of it the module made) never points at
   freed memory; a removed record, or one of a closed instance, traps. */
struct sbx_cb {
  sbx_state* owner;
  uint32_t index;        /* the slot it was registered in: its key in Python */
  volatile uint32_t removed;
  void* target;          /* the compiled callback (sandboxlib._boundary.Callback) */
  sbx_cb* next;
};

typedef struct {
  w2c_m module;
  sbx_state state;
} sbx_instance;

#define SBX_STATE(inst) (&((sbx_instance*)(inst))->state)

#if defined(__x86_64__)
#define SBX_SP() ({ uintptr_t sp_; __asm__("movq %%rsp, %0" : "=r"(sp_)); sp_; })
#elif defined(__aarch64__)
#define SBX_SP() ({ uintptr_t sp_; __asm__("mov %0, sp" : "=r"(sp_)); sp_; })
#else
#define SBX_SP() ((uintptr_t)__builtin_frame_address(0))
#endif

void sbx_trap(wasm_rt_trap_t code) __attribute__((noreturn));
bool sbx_call_indirect_failed(const wasm_rt_funcref_table_t* table,
                              wasm_rt_func_type_t expected, u64 index);
void sbx_allocate_memory(sbx_state* st, wasm_rt_memory_t* mem, uint64_t initial,
                         uint64_t max, bool is64, uint32_t page_size);
uint64_t sbx_grow_memory(wasm_rt_memory_t* mem, uint64_t delta);
void sbx_free_memory(sbx_state* st, wasm_rt_memory_t* mem);
void sbx_allocate_funcref_table(sbx_state* st, wasm_rt_funcref_table_t* table,
                                uint32_t elements, uint32_t max);
void sbx_allocate_externref_table(sbx_state* st, wasm_rt_externref_table_t* table,
                                  uint32_t elements, uint32_t max);
#endif
""".replace("@TRAPS@", "enum {\n" + "".join(f"  {k} = {v},\n" for k, v in TRAPS.items()) + "};\n")

# wasm2c defines FUNC_PROLOGUE and CHECK_CALL_INDIRECT just before this line.
HOOKS_ANCHOR = "static inline uint64_t checked_add_u64("
# Every loop back-edge of the generated code (loop labels are var_L<n>).
METER_AT = "goto var_L"

HOOKS = r"""/* sandboxlib hooks (inserted into wasm2c's output) */
#include "sbx.h"
#if SBX_METERED == 1
#define SBX_METER                                 \
  if (UNLIKELY(--SBX_STATE(instance)->fuel < 0)) \
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_FUEL);      \
  else
#elif SBX_METERED == 2
#define SBX_METER                                 \
  if (UNLIKELY(SBX_STATE(instance)->interrupted)) \
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_FUEL);      \
  else
#else
#define SBX_METER
#endif
#undef FUNC_PROLOGUE
#define FUNC_PROLOGUE                                          \
  if (UNLIKELY(SBX_SP() < SBX_STATE(instance)->stack_limit)) \
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_STACK);                  \
  SBX_METER {}
#undef CHECK_CALL_INDIRECT
#define CHECK_CALL_INDIRECT(table, ft, x)                       \
  (LIKELY((x) < table.size && ft == table.data[x].func_type) || \
   sbx_call_indirect_failed(&(table), ft, x))
#define wasm_rt_allocate_memory(mem, initial, max, is64, page_size) \
  sbx_allocate_memory(SBX_STATE(instance), mem, initial, max, is64, page_size)
#define wasm_rt_grow_memory sbx_grow_memory
#define wasm_rt_free_memory(mem) sbx_free_memory(SBX_STATE(instance), mem)
#define wasm_rt_allocate_funcref_table(table, elements, max) \
  sbx_allocate_funcref_table(SBX_STATE(instance), table, elements, max)
#define wasm_rt_allocate_externref_table(table, elements, max) \
  sbx_allocate_externref_table(SBX_STATE(instance), table, elements, max)

"""

RUNTIME = r"""
#include <pthread.h>
#include <setjmp.h>
#include <unistd.h>
#include "_slab.h"
#include "sbx.h"

/* Native stack a call may use (wasmtime allows 512 KiB of its larger frames), and
   what is kept free under it for host functions the sandbox calls. */
#define SBX_STACK_BUDGET ((uintptr_t)256 << 10)
#define SBX_STACK_RESERVE ((uintptr_t)128 << 10)

""" + RAW_VALUE_C + r"""
typedef struct sbx_frame {
  sigjmp_buf buf;
  struct sbx_frame* prev;
  volatile int code;
} sbx_frame;

/* Run `body` (which calls into wasm) in a trap frame; `refused` runs instead if
   the call cannot start. The trap code is left in s->state.trap. */
#define SBX_CALL(s, refused, body)           \
  sbx_frame f_;                              \
  int code_ = sbx_enter(s, &f_);             \
  if (code_) {                               \
    (s)->state.trap = (uint32_t)code_;       \
    refused;                                 \
  }                                          \
  f_.code = 0;                               \
  if (sigsetjmp(f_.buf, 0) == 0) {           \
    body;                                    \
  }                                          \
  sbx_leave(s, &f_);

static __thread sbx_frame* sbx_top;        /* innermost call on this thread */
static __thread uintptr_t sbx_stack_floor; /* lowest usable address, per thread */

static int64_t sbx_py_import(uintptr_t handle, int index, sbx_val* values);
/* sandboxlib._boundary's dispatcher: runs a callback on its raw values (0: done,
   2: removed, else: it raised and the exception waits for the call's caller). */
static int (*sbx_dispatch)(void* target, sbx_val* values);

void sbx_set_dispatch(uintptr_t dispatch) {
  sbx_dispatch = (int (*)(void*, sbx_val*))dispatch;
}

void sbx_trap(wasm_rt_trap_t code) {
  sbx_frame* f = sbx_top;
  if (!f)
    abort(); /* only reachable from wasm code, which runs inside a frame */
  f->code = (int)code;
  siglongjmp(f->buf, 1);
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

/* Push a frame for a call into s; returns a trap code if the call cannot start. */
static int sbx_enter(sbx_instance* s, sbx_frame* f) {
  sbx_state* st = &s->state;
  if (!sbx_hold(s))
    return SBX_TRAP_CLOSED;
  if (st->depth == 0) {
#if SBX_METERED
    if (st->interrupted) { /* the watchdog fired after the last call returned */
      st->interrupted = 0;
      st->fuel = st->fuel_saved;
    }
#endif
    uintptr_t here = SBX_SP(), floor = sbx_thread_floor();
    if (here <= floor) {
      sbx_drop(s);
      return SBX_TRAP_STACK;
    }
    st->stack_limit = here - floor > SBX_STACK_BUDGET ? here - SBX_STACK_BUDGET : floor;
  }
  st->depth++;
  f->prev = sbx_top;
  sbx_top = f;
  return 0;
}

static void sbx_leave(sbx_instance* s, sbx_frame* f) {
  sbx_top = f->prev;
  s->state.trap = (uint32_t)f->code;
  s->state.depth--;
  sbx_drop(s);
}

bool sbx_call_indirect_failed(const wasm_rt_funcref_table_t* table,
                              wasm_rt_func_type_t expected, u64 index) {
  if (index >= table->size)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_TABLE);
  const wasm_rt_funcref_t* ref = &table->data[index];
  if (!ref->func)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_NULL);
  if (!expected || !ref->func_type || memcmp(expected, ref->func_type, 32) != 0)
    sbx_trap((wasm_rt_trap_t)SBX_TRAP_TYPE);
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
#define SBX_TABLE_ALLOCATOR(kind)                                                  \
  void sbx_allocate_##kind##_table(sbx_state* st, wasm_rt_##kind##_table_t* table, \
                                   uint32_t elements, uint32_t max) {              \
    if (elements > st->max_table)                                                  \
      sbx_trap((wasm_rt_trap_t)SBX_TRAP_TABLE_LIMIT);                              \
    wasm_rt_allocate_##kind##_table(table, elements,                               \
                                    max < st->max_table ? max : st->max_table);    \
    if (elements && !table->data)                                                  \
      sbx_trap((wasm_rt_trap_t)SBX_TRAP_MEMORY);                                   \
  }
SBX_TABLE_ALLOCATOR(funcref)
SBX_TABLE_ALLOCATOR(externref)

void sbx_allocate_memory(sbx_state* st, wasm_rt_memory_t* mem, uint64_t initial,
                         uint64_t max, bool is64, uint32_t page_size) {
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

sbx_state* sbx_state_of(sbx_instance* s) {
  return &s->state;
}

/* From the watchdog thread: make the running call trap at its next call or loop
   iteration. */
void sbx_interrupt(sbx_instance* s) {
  if (!s->state.interrupted) {
    s->state.fuel_saved = s->state.fuel;
    s->state.interrupted = 1;
  }
  s->state.fuel = -1;
}

int sbx_interrupted(sbx_instance* s) {
  return (int)s->state.interrupted;
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
"""
