/* sandboxlib._boundary: the process's clock of deadlines. A counter (CLOCK_TICKS) that
   one thread advances every CLOCK_TICK_SECONDS once start_clock() is called; compiled
   code of a sandbox with a time limit sets a deadline on it when its outermost call
   starts and compares at every call and loop iteration, so no Python runs per call.
   In a forked child the thread is gone: start_clock() starts it again there. */
#include <pthread.h>
#include <time.h>

#include "_boundary_internal.h"

#define TICK_NS 10000000L /* 10 ms */

static volatile uint64_t ticks;
static int started;
static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;

static void* clock_run(void* unused) {
  struct timespec tick = {0, TICK_NS};
  for (;;) {
    nanosleep(&tick, NULL);
    __atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static void clock_forget(void) {
  pthread_mutex_init(&clock_lock, NULL);
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

int add_clock(PyObject* m) {
  PyObject* address = PyLong_FromVoidPtr((void*)&ticks);
  int bad = !address || PyModule_AddObjectRef(m, "CLOCK_TICKS", address) ||
            PyModule_AddObject(m, "CLOCK_TICK_SECONDS", PyFloat_FromDouble(TICK_NS / 1e9));
  Py_XDECREF(address);
  return bad ? -1 : 0;
}
