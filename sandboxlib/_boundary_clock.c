/* sandboxlib._boundary: the process's clock of deadlines and its watch on SIGINT
   (sbx_clock, _clock.h; CLOCK is its address, CLOCK_TICKS that of its counter).

   The clock is a counter one thread advances every CLOCK_TICK_SECONDS once
   start_clock() is called (for sandboxes with a time limit); compiled code of a sandbox
   sets a deadline on it when its outermost call starts and compares at every call and
   loop iteration, so no Python runs per call. In a forked child the thread is gone:
   start_clock() starts it again there.

   The watch: Python's C handler of SIGINT only records the signal for the main thread
   to act on between bytecodes, which a sandboxed call never reaches. watch_signals()
   puts a handler in front of it that makes the main thread's running call stop at its
   next check (main_ticks), wakes the engines that need it, then calls Python's handler.
   Python installs its own handler again whenever signal.signal() is called for SIGINT:
   watch_signals() runs at every new sandbox and puts ours back in front of whatever
   handler is there (none in front of SIG_DFL or SIG_IGN).

   wasm2c's running calls are told to stop through their stop words (_clock.h's
   sbx_watch): the clock sets a timed call's at the tick its time is up (`timed`, the
   calls listed under `watch_lock`), the SIGINT handler the main thread's running
   calls' (`main_calls`, walked without a lock). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#include "_boundary_internal.h"
#include "_clock.h"

#define TICK_NS 10000000L /* 10 ms */

static sbx_clock clock_;
static int started;
static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction chained;          /* the SIGINT handler ours calls */
static PyObject* wake_kept[SBX_MAX_WAKE]; /* what keeps each waker's argument valid */
/* A spin lock: held for a few stores, or by the clock for one walk of the running timed
   calls (a mutex cost a timed call 110 more instructions). */
static uint32_t watch_lock;
static sbx_watch* timed; /* running calls with a time limit (under watch_lock) */

static void watch_take(void) {
  while (__atomic_exchange_n(&watch_lock, 1, __ATOMIC_ACQUIRE))
    sched_yield();
}

static void watch_give(void) {
  __atomic_store_n(&watch_lock, 0, __ATOMIC_RELEASE);
}

static void watch(sbx_watch* w, int on) {
  watch_take();
  if (on) {
    w->prev = NULL;
    w->next = timed;
    if (timed)
      timed->prev = w;
    timed = w;
  } else {
    if (w->prev)
      w->prev->next = w->next;
    else
      timed = w->next;
    if (w->next)
      w->next->prev = w->prev;
  }
  watch_give();
}

/* Stop the timed calls whose time is up at tick `now`. */
static void stop_late(uint64_t now) {
  watch_take();
  for (sbx_watch* w = timed; w; w = w->next)
    if (w->until <= now)
      __atomic_or_fetch(&w->stop, SBX_STOP_TIME, __ATOMIC_SEQ_CST);
  watch_give();
}

static void wake_all(void) {
  for (int i = 0; i < SBX_MAX_WAKE; i++) {
    void (*wake)(void*) = clock_.wake[i];
    if (wake)
      wake(clock_.wake_arg[i]);
  }
}

static void* clock_run(void* unused) {
  struct timespec tick = {0, TICK_NS};
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals go to the threads that act on them */
  for (;;) {
    nanosleep(&tick, NULL);
    uint64_t now = __atomic_add_fetch(&clock_.ticks, 1, __ATOMIC_SEQ_CST);
    uint64_t main = __atomic_load_n(&clock_.main_ticks, __ATOMIC_SEQ_CST);
    while (main != SBX_NEVER && main < now &&
           !__atomic_compare_exchange_n(&clock_.main_ticks, &main, now, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
      ;
    stop_late(now);
    wake_all();
  }
  return NULL;
}

static void clock_forget(void) {
  pthread_mutex_init(&clock_lock, NULL);
  watch_lock = 0; /* the thread holding it may be gone */
  started = 0;
}

PyObject* start_clock(PyObject* self, PyObject* unused) {
  static int at_fork;
  int err = 0;
  pthread_mutex_lock(&clock_lock);
  if (!at_fork && pthread_atfork(NULL, NULL, clock_forget) == 0)
    at_fork = 1;
  if (!started) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 << 10);
    err = pthread_create(&thread, &attr, clock_run, NULL);
    pthread_attr_destroy(&attr);
    started = !err;
  }
  pthread_mutex_unlock(&clock_lock);
  if (err)
    return PyErr_Format(PyExc_RuntimeError, "cannot start the clock of deadlines (error %d)", err);
  Py_RETURN_NONE;
}

static void on_signal(int sig, siginfo_t* info, void* context) {
  int saved = errno;
  __atomic_add_fetch(&clock_.signals, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&clock_.main_ticks, SBX_NEVER, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&clock_.signalling, 1, __ATOMIC_SEQ_CST);
  for (sbx_watch* w = __atomic_load_n(&clock_.main_calls, __ATOMIC_SEQ_CST); w; w = w->outer)
    __atomic_or_fetch(&w->stop, SBX_STOP_SIGNAL, __ATOMIC_SEQ_CST);
  __atomic_sub_fetch(&clock_.signalling, 1, __ATOMIC_SEQ_CST);
  wake_all();
  errno = saved;
  if (chained.sa_flags & SA_SIGINFO)
    chained.sa_sigaction(sig, info, context);
  else if (chained.sa_handler != SIG_DFL && chained.sa_handler != SIG_IGN)
    chained.sa_handler(sig);
}

PyObject* watch_signals(PyObject* self, PyObject* main_thread) {
  unsigned long long main = PyLong_AsUnsignedLongLong(main_thread);
  if (main == (unsigned long long)-1 && PyErr_Occurred())
    return NULL;
  clock_.main_thread = main;
  struct sigaction now;
  if (sigaction(SIGINT, NULL, &now) != 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  int ours = (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_signal;
  if (ours ||
      (!(now.sa_flags & SA_SIGINFO) && (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN)))
    Py_RETURN_NONE;
  struct sigaction front = now;
  front.sa_sigaction = on_signal;
  front.sa_flags = now.sa_flags | SA_SIGINFO;
  chained = now; /* ours is not installed now: nothing reads it meanwhile */
  if (sigaction(SIGINT, &front, NULL) != 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  Py_RETURN_NONE;
}

PyObject* add_waker(PyObject* self, PyObject* args) {
  unsigned long long fn, arg;
  PyObject* keep;
  if (!PyArg_ParseTuple(args, "KKO", &fn, &arg, &keep))
    return NULL;
  if (!fn)
    return PyErr_Format(PyExc_ValueError, "add_waker: the function is NULL");
  pthread_mutex_lock(&clock_lock);
  int i = 0;
  while (i < SBX_MAX_WAKE && clock_.wake[i])
    i++;
  if (i < SBX_MAX_WAKE) {
    wake_kept[i] = Py_NewRef(keep);
    clock_.wake_arg[i] = (void*)(uintptr_t)arg; /* before the function: it may run at once */
    __atomic_store_n(&clock_.wake[i], (void (*)(void*))(uintptr_t)fn, __ATOMIC_SEQ_CST);
  }
  pthread_mutex_unlock(&clock_lock);
  if (i == SBX_MAX_WAKE)
    return PyErr_Format(PyExc_RuntimeError, "more than %d wakers", SBX_MAX_WAKE);
  Py_RETURN_NONE;
}

PyObject* check_signals(PyObject* self, PyObject* unused) {
  if (PyErr_CheckSignals() < 0)
    return NULL;
  Py_RETURN_NONE;
}

int add_clock(PyObject* m) {
  clock_.watch = watch;
  PyObject* ticks = PyLong_FromVoidPtr((void*)&clock_.ticks);
  PyObject* all = PyLong_FromVoidPtr((void*)&clock_);
  int bad = !ticks || !all || PyModule_AddObjectRef(m, "CLOCK_TICKS", ticks) ||
            PyModule_AddObjectRef(m, "CLOCK", all) ||
            PyModule_AddObject(m, "CLOCK_TICK_SECONDS", PyFloat_FromDouble(TICK_NS / 1e9));
  Py_XDECREF(ticks);
  Py_XDECREF(all);
  return bad ? -1 : 0;
}
