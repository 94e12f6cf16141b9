/* sandboxlib: the process's clock of deadlines and its record of signals, as the
   backends' C sees it (sandboxlib._boundary's CLOCK is its address; they get it once
   loaded). wasmtime's stop checks compare a clock with the running call's deadline:
   `ticks` for calls on other threads, `main_ticks` for calls on Python's main thread,
   which a watched signal (SIGINT) sets to SBX_NEVER so that the main thread's running
   call stops at its next check, and Python's handler runs. `wake` lists what must happen for
   compiled code that compares nothing until told (wasmtime's epochs): the clock calls them every
   tick, the signal handler once.

   wasm2c's compiled code compares nothing with the clock: each of its running outermost
   calls has a stop word (sbx_watch) that its checks test, and the stop's causes set it:
   the clock, at the tick a timed call's time is up (`watch` lists the call for it), a
   watched signal for the main thread's calls (`main_calls`, which the signal handler
   walks: it must not take a lock), interrupt() for its instance's. */
#ifndef SBX_CLOCK_H
#define SBX_CLOCK_H
#include <stdint.h>

#define SBX_NEVER UINT64_MAX
#define SBX_MAX_WAKE 8

/* What a running call must stop for: bits of its stop word. */
#define SBX_STOP_TIME 1u      /* its time limit passed */
#define SBX_STOP_SIGNAL 2u    /* a watched signal came while it ran on the main thread */
#define SBX_STOP_INTERRUPT 4u /* interrupt() */

/* A running outermost call, as the causes of its stop see it: listed with the clock
   while it runs under a time limit, chained on the main thread's calls while it runs
   there. Its owner (an instance) outlives both. */
typedef struct sbx_watch {
  volatile uint32_t stop; /* SBX_STOP_* bits, 0 while it may run (atomic) */
  uint64_t until;         /* the tick its time is up at */
  struct sbx_watch* prev; /* the clock's list of timed calls (under its lock) */
  struct sbx_watch* next;
  struct sbx_watch* outer; /* the main thread's call this one runs under, or NULL */
} sbx_watch;

typedef struct {
  volatile uint64_t ticks;       /* +1 every CLOCK_TICK_SECONDS once start_clock() ran */
  volatile uint64_t main_ticks;  /* ticks, or SBX_NEVER from a watched signal until a call
                                    of the main thread takes it back (sbx_clock_signalled) */
  volatile uint64_t signals;     /* watched signals received so far */
  volatile uint64_t main_thread; /* pthread_self() of Python's main thread */
  void (*volatile wake[SBX_MAX_WAKE])(void*);
  void* volatile wake_arg[SBX_MAX_WAKE];
  /* List a timed call with the clock (on != 0), or take it off, before it ends. */
  void (*watch)(sbx_watch* w, int on);
  sbx_watch* volatile main_calls; /* the main thread's running calls, innermost first */
  volatile uint32_t signalling;   /* signal handlers walking main_calls now (atomic) */
} sbx_clock;

/* The main thread's call `w` starts running (on the main thread). */
static inline void sbx_clock_push_main(sbx_clock* c, sbx_watch* w) {
  w->outer = c->main_calls;
  __atomic_store_n(&c->main_calls, w, __ATOMIC_SEQ_CST);
}

/* The main thread's innermost call `w` ends: once this returns, no signal handler
   writes its stop word (one running meanwhile has finished). */
static inline void sbx_clock_pop_main(sbx_clock* c, sbx_watch* w) {
  __atomic_store_n(&c->main_calls, w->outer, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&c->signalling, __ATOMIC_SEQ_CST))
    ;
}

/* Whether a watched signal came since the main thread's call that saw `seen` signals
   started; if none did, a signal Python has handled already set main_ticks: put it
   back. Called when a check of the main thread's call fires. */
static inline int sbx_clock_signalled(sbx_clock* c, uint64_t seen) {
  if (__atomic_load_n(&c->signals, __ATOMIC_SEQ_CST) != seen)
    return 1;
  uint64_t never = SBX_NEVER;
  __atomic_compare_exchange_n(&c->main_ticks, &never, c->ticks, 0, __ATOMIC_SEQ_CST,
                              __ATOMIC_SEQ_CST);
  return __atomic_load_n(&c->signals, __ATOMIC_SEQ_CST) != seen; /* one came meanwhile */
}

#endif
