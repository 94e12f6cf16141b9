/* sandboxlib: the process's clock of deadlines and its record of signals, as the
   backends' C sees it (sandboxlib._boundary's CLOCK is its address; they get it once
   loaded). Compiled code of a sandbox compares a clock with its running call's
   deadline at every call and loop iteration: `ticks` for calls on other threads,
   `main_ticks` for calls on Python's main thread, which a watched signal (SIGINT) sets
   to SBX_NEVER so that the main thread's running call stops at its next check, and
   Python's handler runs. `wake` lists what must happen for compiled code that compares
   nothing until told (wasmtime's epochs): the clock calls them every tick, the signal
   handler once. */
#ifndef SBX_CLOCK_H
#define SBX_CLOCK_H
#include <stdint.h>

#define SBX_NEVER UINT64_MAX
#define SBX_MAX_WAKE 8

typedef struct {
  volatile uint64_t ticks;       /* +1 every CLOCK_TICK_SECONDS once start_clock() ran */
  volatile uint64_t main_ticks;  /* ticks, or SBX_NEVER from a watched signal until a call
                                    of the main thread takes it back (sbx_clock_signalled) */
  volatile uint64_t signals;     /* watched signals received so far */
  volatile uint64_t main_thread; /* pthread_self() of Python's main thread */
  void (*volatile wake[SBX_MAX_WAKE])(void*);
  void* volatile wake_arg[SBX_MAX_WAKE];
} sbx_clock;

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
