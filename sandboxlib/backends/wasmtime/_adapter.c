/* sandboxlib.backends.wasmtime._adapter: wasmtime in the compiled boundary's forms.

   The boundary (sandboxlib/_boundary.h) calls every backend the same way: a uniform
   call, a memory region, a callback dispatcher. This adapter gives wasmtime those
   forms, in C because they are on every call:
   - Entry: one exported function of one store, called as an sbx_call_fn through
     wasmtime_func_call_unchecked; the outermost call of a store arms it (nested
     calls, made from callbacks, run under it): its epoch deadline is the next epoch,
     and the store's epoch callback decides there whether the call goes on (its time
     limit on the process's clock, interrupt(), a signal: _clock.h); the engine's epoch
     moves every clock tick, on interrupt() and on a watched signal. A failed call's
     error and trap, and why it was stopped, wait in the Store for the backend.
   - MemoryRef: an sbx_region_fn over the store's memory (wasmtime_memory_data/_size).
   - TRAMPOLINE: an unchecked host function that runs a boundary Callback (its env).
   - CREATOR: a wasmtime memory creator over sandboxlib._slab's slots, sized by
     `expect` for the next memory this thread instantiates; one per instantiation.
   wasmtime's C API is reached through addresses handed to `setup` (wasmtime-py's
   shared library is loaded at run time, not linked). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "../../_boundary.h"
#include "../../_clock.h"
#include "../../_slab.h"

typedef union {
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
  uint8_t v128[16];
} wt_val_raw;

typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasm_trap wasm_trap_t;
typedef struct wasm_memorytype wasm_memorytype_t;

/* wasmtime's C API, as `setup` received it */
static struct {
  wasmtime_error_t* (*call)(void* ctx, const void* func, wt_val_raw* args, size_t n,
                            wasm_trap_t** trap);
  void (*set_deadline)(void* ctx, uint64_t ticks);
  uint8_t* (*memory_data)(const void* ctx, const void* memory);
  size_t (*memory_size)(const void* ctx, const void* memory);
  wasm_trap_t* (*trap_new)(const char* msg, size_t len);
  wasmtime_error_t* (*error_new)(const char* msg);
  sbx_dispatch_fn dispatch;
  const sbx_slab_api* slab;
  void (*set_epoch_callback)(void* store,
                             wasmtime_error_t* (*fn)(void* ctx, void* data, uint64_t* delta,
                                                     uint8_t* kind),
                             void* data, void (*finalizer)(void*));
  sbx_clock* clock;
} wt;

#define HANDLE_BYTES 32 /* room for a wasmtime_func_t (16 bytes), wasmtime_memory_t (24) */

/* -- Store: the call state of one store ------------------------------------------- */
enum { STOP_NONE, STOP_INTERRUPTED, STOP_SIGNAL, STOP_TIMEOUT }; /* why a call was stopped */

typedef struct {
  PyObject_HEAD
  void* ctx;        /* wasmtime_context_t* */
  uint64_t timeout; /* clock ticks each outermost call may run; 0: no time limit */
  uint64_t until;   /* the clock tick at which the running call's time is up */
  long depth;       /* calls of this store running (they hold the sandbox's lock) */
  uint64_t call;    /* outermost calls made so far: the running one's number */
  uint64_t cancel;  /* the number of the call interrupt() stopped */
  int main;         /* the running call is the main thread's */
  uint64_t signals; /* watched signals when it started */
  int stopped;      /* why the last call was stopped (STOP_*), until taken */
  wasmtime_error_t* err;
  wasm_trap_t* trap; /* of the last failed call, until taken */
} Store;

/* Before an outermost call: its number, its time limit, its thread; the epoch
   callback looks at them from the next epoch on. */
static void arm(Store* s) {
  sbx_clock* c = wt.clock;
  s->main = c->main_thread == (uint64_t)pthread_self();
  s->signals = __atomic_load_n(&c->signals, __ATOMIC_SEQ_CST);
  s->until = s->timeout ? c->ticks + s->timeout : SBX_NEVER;
  __atomic_add_fetch(&s->call, 1, __ATOMIC_SEQ_CST);
  wt.set_deadline(s->ctx, 1);
}

static int stop_reason(Store* s) {
  sbx_clock* c = wt.clock;
  if (s->main && c->main_ticks == SBX_NEVER && sbx_clock_signalled(c, s->signals))
    return STOP_SIGNAL;
  if (c->ticks >= s->until)
    return STOP_TIMEOUT;
  if (__atomic_load_n(&s->cancel, __ATOMIC_SEQ_CST) == __atomic_load_n(&s->call, __ATOMIC_SEQ_CST))
    return STOP_INTERRUPTED;
  return STOP_NONE;
}

/* wasmtime's epoch deadline callback (`data`: the Store): go on to the next epoch,
   or stop the call (an error; why is kept in the Store). */
static wasmtime_error_t* on_epoch(void* ctx, void* data, uint64_t* delta, uint8_t* kind) {
  Store* s = data;
  int why = stop_reason(s);
  if (why) {
    s->stopped = why;
    return wt.error_new("sandboxlib: the call was stopped");
  }
  *delta = 1;
  *kind = 0; /* WASMTIME_UPDATE_DEADLINE_CONTINUE */
  return NULL;
}

static PyObject* Store_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  unsigned long long ctx, store, timeout;
  if (!PyArg_ParseTuple(args, "KKK", &ctx, &store, &timeout))
    return NULL;
  if (!wt.call) {
    PyErr_SetString(PyExc_RuntimeError, "_adapter.setup() was not called");
    return NULL;
  }
  Store* s = (Store*)type->tp_alloc(type, 0);
  if (s) {
    s->ctx = (void*)(uintptr_t)ctx;
    s->timeout = timeout;
    s->until = SBX_NEVER;
    /* the store calls it only while a call runs, through an Entry holding this Store */
    wt.set_epoch_callback((void*)(uintptr_t)store, on_epoch, s, NULL);
  }
  return (PyObject*)s;
}

static PyObject* Store_take_failure(Store* s, PyObject* unused) {
  PyObject* r = Py_BuildValue("(KKi)", (unsigned long long)(uintptr_t)s->err,
                              (unsigned long long)(uintptr_t)s->trap, s->stopped);
  if (r)
    s->err = NULL, s->trap = NULL, s->stopped = STOP_NONE; /* the caller frees them */
  return r;
}

static PyObject* Store_arm(Store* s, PyObject* unused) {
  arm(s);
  Py_RETURN_NONE;
}

static PyObject* Store_interrupt(Store* s, PyObject* unused) {
  if (__atomic_load_n(&s->depth, __ATOMIC_SEQ_CST) == 0)
    Py_RETURN_FALSE;
  __atomic_store_n(&s->cancel, __atomic_load_n(&s->call, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
  Py_RETURN_TRUE;
}

static PyMethodDef Store_methods[] = {
    {"take_failure", (PyCFunction)Store_take_failure, METH_NOARGS,
     "(error, trap, why stopped) of the last failed call, as addresses (0: none) and a "
     "STOP_* code; the caller frees them."},
    {"arm", (PyCFunction)Store_arm, METH_NOARGS,
     "Arm the store as an outermost call does (before instantiation and start-up)."},
    {"interrupt", (PyCFunction)Store_interrupt, METH_NOARGS,
     "Mark the running call stopped (True), or False if none runs; the caller then moves "
     "the engine's epoch so that the call sees it."},
    {NULL}};

static PyTypeObject StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib.backends.wasmtime._adapter.Store",
    .tp_basicsize = sizeof(Store),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc =
        "Store(context address, store address, timeout in clock ticks or 0): the call "
        "state of one store.",
    .tp_new = Store_new,
    .tp_methods = Store_methods,
};

/* -- Entry: one function as an sbx_call_fn ---------------------------------------- */
typedef struct {
  PyObject_HEAD
  Store* store;
  size_t values; /* the length of the argument-and-result array */
  uint8_t func[HANDLE_BYTES];
} Entry;

static int entry_call(void* ctx, sbx_val* v) {
  Entry* e = ctx;
  Store* s = e->store;
  wt_val_raw w[SBX_MAX_PARAMS];
  memset(w, 0, e->values * sizeof *w);
  for (size_t i = 0; i < e->values; i++)
    memcpy(&w[i], &v[i], sizeof v[i]);
  if (s->depth == 0)
    arm(s);
  wasm_trap_t* trap = NULL;
  s->depth++;
  wasmtime_error_t* err = wt.call(s->ctx, e->func, w, e->values, &trap);
  s->depth--;
  if (!err && !trap) {
    memcpy(&v[0], &w[0], sizeof v[0]);
    return 0;
  }
  s->err = err;
  s->trap = trap;
  return 1;
}

static PyObject* handle_object(PyTypeObject* type, Py_buffer* handle) {
  if (handle->len < 1 || handle->len > HANDLE_BYTES) {
    PyErr_Format(PyExc_ValueError, "a wasmtime handle has 1 to %d bytes", HANDLE_BYTES);
    return NULL;
  }
  return type->tp_alloc(type, 0);
}

static PyObject* Entry_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  Store* store;
  Py_buffer func;
  int params;
  if (!PyArg_ParseTuple(args, "O!y*i", &StoreType, &store, &func, &params))
    return NULL;
  Entry* e = NULL;
  if (params < 0 || params > SBX_MAX_PARAMS)
    PyErr_Format(PyExc_ValueError, "a function has 0 to %d parameters", SBX_MAX_PARAMS);
  else if ((e = (Entry*)handle_object(type, &func))) {
    memcpy(e->func, func.buf, (size_t)func.len);
    e->store = (Store*)Py_NewRef(store);
    e->values = params ? (size_t)params : 1;
  }
  PyBuffer_Release(&func);
  return (PyObject*)e;
}

static void Entry_dealloc(Entry* e) {
  Py_XDECREF(e->store);
  Py_TYPE(e)->tp_free((PyObject*)e);
}

static PyObject* address_of(PyObject* o, void* unused) {
  return PyLong_FromVoidPtr(o);
}

static PyGetSetDef address_getset[] = {
    {"address", (getter)address_of, NULL, "The ctx the boundary passes (valid while this lives).",
     NULL},
    {NULL}};

static PyTypeObject EntryType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib.backends.wasmtime._adapter.Entry",
    .tp_basicsize = sizeof(Entry),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Entry(store, function handle, parameter count): ctx of CALL for one function.",
    .tp_new = Entry_new,
    .tp_dealloc = (destructor)Entry_dealloc,
    .tp_getset = address_getset,
};

/* -- MemoryRef: the store's memory as an sbx_region_fn ----------------------------- */
typedef struct {
  PyObject_HEAD
  Store* store;
  uint8_t memory[HANDLE_BYTES];
} MemoryRef;

static void memory_region(void* ctx, uint8_t** base, uint64_t* size) {
  MemoryRef* m = ctx;
  *base = wt.memory_data(m->store->ctx, m->memory);
  *size = wt.memory_size(m->store->ctx, m->memory);
}

static PyObject* MemoryRef_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  Store* store;
  Py_buffer memory;
  if (!PyArg_ParseTuple(args, "O!y*", &StoreType, &store, &memory))
    return NULL;
  MemoryRef* m = (MemoryRef*)handle_object(type, &memory);
  if (m) {
    memcpy(m->memory, memory.buf, (size_t)memory.len);
    m->store = (Store*)Py_NewRef(store);
  }
  PyBuffer_Release(&memory);
  return (PyObject*)m;
}

static void MemoryRef_dealloc(MemoryRef* m) {
  Py_XDECREF(m->store);
  Py_TYPE(m)->tp_free((PyObject*)m);
}

static PyTypeObject MemoryRefType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib.backends.wasmtime._adapter.MemoryRef",
    .tp_basicsize = sizeof(MemoryRef),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "MemoryRef(store, memory handle): ctx of REGION for the store's memory.",
    .tp_new = MemoryRef_new,
    .tp_dealloc = (destructor)MemoryRef_dealloc,
    .tp_getset = address_getset,
};

/* -- callbacks: wasmtime's unchecked host-function form; `env` is the Callback ----- */
static wasm_trap_t* trampoline(void* env, void* caller, wt_val_raw* args, size_t n) {
  sbx_val v[SBX_MAX_PARAMS + 1];
  if (n > SBX_MAX_PARAMS)
    n = SBX_MAX_PARAMS;
  for (size_t i = 0; i < n; i++)
    memcpy(&v[i], &args[i], sizeof v[i]);
  int rc = wt.dispatch(env, v);
  if (rc == SBX_CALLBACK_REMOVED) {
    static const char msg[] = "call to an unregistered callback";
    return wt.trap_new(msg, sizeof msg - 1);
  }
  if (rc) {
    static const char msg[] = "host callback raised an exception";
    return wt.trap_new(msg, sizeof msg - 1);
  }
  if (n) {
    memset(&args[0], 0, sizeof args[0]);
    memcpy(&args[0], &v[0], sizeof v[0]);
  }
  return NULL;
}

/* -- memories: a memory creator over the slab's slots -----------------------------
   The engines are configured for explicit bounds checks (no reservation, no guard
   region), so a memory is its slot and its current size. */
typedef struct {
  void* env;
  uint8_t* (*get_memory)(void* env, size_t* byte_size, size_t* maximum_byte_size);
  wasmtime_error_t* (*grow_memory)(void* env, size_t new_size);
  void (*finalizer)(void* env);
} wt_linear_memory;

typedef struct {
  void* env;
  wasmtime_error_t* (*new_memory)(void* env, const wasm_memorytype_t* ty, size_t minimum,
                                  size_t maximum, size_t reserved_size_in_bytes,
                                  size_t guard_size_in_bytes, wt_linear_memory* memory_ret);
  void (*finalizer)(void* env);
} wt_memory_creator;

typedef struct {
  uint8_t* data;
  size_t size;    /* current byte size */
  size_t maximum; /* the slot's size: growth past it fails */
} wt_memory;

static __thread size_t expected; /* slot size for the next memory of this thread */

static uint8_t* memory_get(void* env, size_t* byte_size, size_t* maximum_byte_size) {
  wt_memory* m = env;
  *byte_size = m->size;
  *maximum_byte_size = m->maximum;
  return m->data;
}

static wasmtime_error_t* memory_grow(void* env, size_t new_size) {
  wt_memory* m = env;
  if (new_size > m->maximum)
    return wt.error_new("memory limit reached");
  m->size = new_size; /* the slot is zero past the old size: nothing to do */
  return NULL;
}

static void memory_free(void* env) {
  wt_memory* m = env;
  wt.slab->give(m->data, m->maximum, m->size);
  free(m);
}

static wasmtime_error_t* memory_new(void* env, const wasm_memorytype_t* ty, size_t minimum,
                                    size_t maximum, size_t reserved, size_t guard,
                                    wt_linear_memory* ret) {
  (void)env, (void)ty;
  size_t slot = expected;
  if (!slot)
    return wt.error_new(
        "sandboxlib: a memory made outside a sandbox's instantiation, "
        "or a second memory of one");
  expected = 0; /* one memory per instantiation: the limit bounds the whole module */
  if (maximum < slot)
    slot = maximum;
  if (!slot)
    return wt.error_new("the module's memory has a maximum of 0 bytes");
  if (minimum > slot)
    return wt.error_new("the module's initial memory does not fit the limit");
  if (reserved > slot || guard)
    return wt.error_new("sandboxlib: the engine expects reserved memory or guard pages");
  wt_memory* m = malloc(sizeof *m);
  if (!m)
    return wt.error_new("out of host memory");
  if (!(m->data = wt.slab->take(slot))) {
    free(m);
    return wt.error_new("no room for another sandbox's memory");
  }
  m->size = minimum;
  m->maximum = slot;
  *ret = (wt_linear_memory){m, memory_get, memory_grow, memory_free};
  return NULL;
}

static wt_memory_creator creator = {NULL, memory_new, NULL};

/* -- module ------------------------------------------------------------------------ */
static PyObject* py_setup(PyObject* self, PyObject* args) {
  unsigned long long a[10];
  if (!PyArg_ParseTuple(args, "KKKKKKKKKK", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7],
                        &a[8], &a[9]))
    return NULL;
  for (int i = 0; i < 10; i++)
    if (!a[i])
      return PyErr_Format(PyExc_ValueError, "setup: argument %d is NULL", i + 1);
  const sbx_slab_api* slab = (const sbx_slab_api*)(uintptr_t)a[7];
  if (slab->version != SBX_SLAB_VERSION)
    return PyErr_Format(PyExc_ImportError, "sandboxlib._slab has interface %u, not %u",
                        slab->version, SBX_SLAB_VERSION);
  wt.call = (void*)(uintptr_t)a[0];
  wt.set_deadline = (void*)(uintptr_t)a[1];
  wt.memory_data = (void*)(uintptr_t)a[2];
  wt.memory_size = (void*)(uintptr_t)a[3];
  wt.trap_new = (void*)(uintptr_t)a[4];
  wt.error_new = (void*)(uintptr_t)a[5];
  wt.dispatch = (sbx_dispatch_fn)(uintptr_t)a[6];
  wt.slab = slab;
  wt.set_epoch_callback = (void*)(uintptr_t)a[8];
  wt.clock = (sbx_clock*)(uintptr_t)a[9];
  Py_RETURN_NONE;
}

static PyObject* py_expect(PyObject* self, PyObject* size) {
  size_t n = PyLong_AsSize_t(size);
  if (n == (size_t)-1 && PyErr_Occurred())
    return NULL;
  expected = n;
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setup", py_setup, METH_VARARGS,
     "setup(call_unchecked, set_epoch_deadline, memory_data, memory_data_size, trap_new, "
     "error_new, callback_dispatch, slab_api, store_epoch_deadline_callback, clock): the "
     "addresses this adapter calls and reads."},
    {"expect", py_expect, METH_O,
     "Slot size in bytes for the next memory this thread instantiates (0: none)."},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject* m) {
  if (PyType_Ready(&StoreType) < 0 || PyType_Ready(&EntryType) < 0 ||
      PyType_Ready(&MemoryRefType) < 0)
    return -1;
  if (PyModule_AddObjectRef(m, "Store", (PyObject*)&StoreType) ||
      PyModule_AddObjectRef(m, "Entry", (PyObject*)&EntryType) ||
      PyModule_AddObjectRef(m, "MemoryRef", (PyObject*)&MemoryRefType))
    return -1;
  PyObject* addresses[] = {
      PyLong_FromVoidPtr((void*)entry_call), PyLong_FromVoidPtr((void*)memory_region),
      PyLong_FromVoidPtr((void*)trampoline), PyLong_FromVoidPtr((void*)&creator)};
  const char* names[] = {"CALL", "REGION", "TRAMPOLINE", "CREATOR"};
  int bad = 0;
  for (int i = 0; i < 4; i++)
    bad = bad || !addresses[i] || PyModule_AddObjectRef(m, names[i], addresses[i]);
  for (int i = 0; i < 4; i++)
    Py_XDECREF(addresses[i]);
  return bad ? -1 : 0;
}

static PyModuleDef_Slot slots[] = {{Py_mod_exec, exec_module}, {0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "sandboxlib.backends.wasmtime._adapter",
    "wasmtime in the compiled boundary's forms (calls, memory, callbacks, memories).",
    0,
    methods,
    slots};

PyMODINIT_FUNC PyInit__adapter(void) {
  return PyModuleDef_Init(&module);
}
