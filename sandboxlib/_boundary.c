/* The compiled boundary: the checked caller every sandboxed C function is called
   through, and the call state of a sandbox it checks.

   A Caller does, in C, what the sandbox promises for every call: the argument
   count, the sandbox usable (not poisoned, not closed), borrowed views released,
   each argument range-checked for its C type (a pointer: NULL, a plain address in
   range, or a TaintedPtr of this very sandbox), the one-caller lock (re-entrant on
   the thread that holds it: callbacks call back in), the raw call with the GIL
   released, and a tainted result (sub-int results truncated as C would). Anything
   off the fast path (a value of another type, a refused value, bytes copied in, a
   failed call) goes to the sandbox's Python code, which converts or raises the
   error naming the function and argument: the rules live there once, and this file
   only accepts what they would accept unchanged.

   Raw calls take one of two forms, whatever the backend (see _boundary.h):
     UNIFORM   an sbx_call_fn: each backend's adapter provides one per function (the
               wasm2c shim, the native build's entries, backends/wasmtime/_adapter.c);
     PYTHON    any Python callable (e.g. a call that arms a watchdog first). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

#include "_slots.h"

#include "_boundary.h"

enum { RAW_UNIFORM = 0, RAW_PYTHON = 1 };
#define MAX_PARAMS SBX_MAX_PARAMS

/* -- the tainted types (set once by setup()) ------------------------------------ */
static PyTypeObject* tainted_type;
static PyTypeObject* tainted_ptr_type;
static Py_ssize_t off_value, off_origin, off_memory;
static PyObject* argument_error;


static PyObject* setup(PyObject* self, PyObject* args) {
  PyTypeObject *t, *p;
  PyObject* err;
  if (!PyArg_ParseTuple(args, "O!O!O", &PyType_Type, &t, &PyType_Type, &p, &err))
    return NULL;
  if (!PyType_IsSubtype(p, t)) {
    PyErr_SetString(PyExc_TypeError, "TaintedPtr must subclass Tainted");
    return NULL;
  }
  if (slot_offset(t, "_value", &off_value) || slot_offset(t, "_origin", &off_origin) ||
      slot_offset(p, "_memory", &off_memory))
    return NULL;
  Py_INCREF(t);
  Py_INCREF(p);
  Py_INCREF(err);
  Py_XSETREF(tainted_type, t);
  Py_XSETREF(tainted_ptr_type, p);
  Py_XSETREF(argument_error, err);
  Py_RETURN_NONE;
}

/* The raised exception, taken (3.11 has no PyErr_GetRaisedException); NULL if none. */
static PyObject* take_exception(void) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (!type)
    return NULL;
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb) {
    PyException_SetTraceback(value, tb);
    Py_DECREF(tb);
  }
  Py_DECREF(type);
  return value;
}

/* Raise `exc` again (stolen); nothing if NULL. */
static void restore_exception(PyObject* exc) {
  if (exc)
    PyErr_Restore(Py_NewRef((PyObject*)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
}


/* Tainted(value, origin) without running Python code; steals `value`. */
static PyObject* tainted(PyTypeObject* type, PyObject* value, PyObject* origin,
                         PyObject* memory) {
  if (!value)
    return NULL;
  PyObject* o = type->tp_alloc(type, 0);
  if (!o) {
    Py_DECREF(value);
    return NULL;
  }
  SLOT(o, off_value) = value;
  Py_INCREF(origin);
  SLOT(o, off_origin) = origin;
  if (memory) {
    Py_INCREF(memory);
    SLOT(o, off_memory) = memory;
  }
  return o;
}

static PyObject* call_method(PyObject* o, const char* name, PyObject* const* args,
                             size_t n) {
  PyObject* stack[5] = {o};
  for (size_t i = 0; i < n; i++)
    stack[i + 1] = args[i];
  PyObject* m = PyUnicode_InternFromString(name);
  if (!m)
    return NULL;
  PyObject* r = PyObject_VectorcallMethod(m, stack, (n + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                          NULL);
  Py_DECREF(m);
  return r;
}

/* -- Region: bounds-checked access to one sandbox's memory ---------------------------
   The base type of backends/memory.py's Memory: reads, writes and C strings that
   are in bounds are done here; anything else (out of bounds, NULL, not an int, a
   closed sandbox) goes to the Memory's _*_slow method, which raises the error. */
enum { REGION_CLOSED = 0, REGION_UNIFORM = 1, REGION_HOST = 2 };

typedef struct {
  PyObject_HEAD
  int form;
  sbx_region_fn fn;
  void* ctx;
  void (*release)(void* ctx); /* given back when detached: what kept the memory there */
  PyObject* keep;
} Region;

/* The memory's base and size now; 0 if it is closed. */
static int region_get(Region* r, uint8_t** base, uint64_t* size) {
  switch (r->form) {
    case REGION_UNIFORM:
      r->fn(r->ctx, base, size);
      return 1;
    case REGION_HOST:
      *base = NULL;
      *size = UINT64_MAX;
      return 1;
  }
  return 0;
}

/* Address `a` of a memory based at `base` (NULL for the host's own memory). */
static inline uint8_t* at_address(uint8_t* base, uint64_t a) {
  return (uint8_t*)((uintptr_t)base + (uintptr_t)a);
}

/* Where [a, a + length) is, if it lies inside the memory (and is not a non-empty
   span at NULL); NULL otherwise. */
static uint8_t* region_at(Region* r, uint64_t a, uint64_t length) {
  uint8_t* base;
  uint64_t size;
  if (!region_get(r, &base, &size) || a > size || length > size - a || (a == 0 && length))
    return NULL;
  return at_address(base, a);
}

/* The same for an address given as a Python int. */
static uint8_t* region_span(Region* r, PyObject* address, Py_ssize_t length) {
  if (length < 0 || !PyLong_CheckExact(address))
    return NULL;
  unsigned long long a = PyLong_AsUnsignedLongLong(address);
  if (a == (unsigned long long)-1 && PyErr_Occurred()) {
    PyErr_Clear();
    return NULL;
  }
  return region_at(r, a, (uint64_t)length);
}

static PyObject* Region_read(Region* r, PyObject* const* args, Py_ssize_t n) {
  if (n == 2 && PyLong_CheckExact(args[1])) {
    Py_ssize_t length = PyLong_AsSsize_t(args[1]);
    uint8_t* at = (length == -1 && PyErr_Occurred()) ? NULL : region_span(r, args[0], length);
    PyErr_Clear();
    if (at)
      return PyBytes_FromStringAndSize((const char*)at, length);
  }
  return call_method((PyObject*)r, "_read_slow", args, (size_t)n);
}

static PyObject* Region_write(Region* r, PyObject* const* args, Py_ssize_t n) {
  Py_buffer data;
  if (n == 2 && PyObject_CheckBuffer(args[1]) &&
      PyObject_GetBuffer(args[1], &data, PyBUF_C_CONTIGUOUS) == 0) {
    uint8_t* at = region_span(r, args[0], data.len);
    if (at)
      memmove(at, data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    if (at)
      Py_RETURN_NONE;
  }
  PyErr_Clear(); /* not one contiguous buffer: the slow path says what it is */
  return call_method((PyObject*)r, "_write_slow", args, (size_t)n);
}

static PyObject* Region_read_cstring(Region* r, PyObject* const* args, Py_ssize_t n) {
  uint8_t* base;
  uint64_t size;
  if (n == 2 && PyLong_CheckExact(args[0]) && PyLong_CheckExact(args[1]) &&
      region_get(r, &base, &size)) {
    unsigned long long a = PyLong_AsUnsignedLongLong(args[0]);
    long long max_len = PyLong_AsLongLong(args[1]);
    if (PyErr_Occurred()) {
      PyErr_Clear();
    } else if (a > 0 && a < size && max_len >= 0) {
      uint64_t limit = size - a;
      if ((unsigned long long)max_len < limit)
        limit = (uint64_t)max_len + 1;
      const uint8_t* end = memchr(at_address(base, a), 0, (size_t)limit);
      const uint8_t* start = at_address(base, a);
      if (end && (uint64_t)(end - start) <= (uint64_t)max_len)
        return PyBytes_FromStringAndSize((const char*)start, end - start);
    }
  }
  return call_method((PyObject*)r, "_read_cstring_slow", args, (size_t)n);
}

static void region_release(Region* r) {
  void (*release)(void*) = r->release;
  r->form = REGION_CLOSED;
  r->release = NULL;
  if (release)
    release(r->ctx);
  Py_CLEAR(r->keep);
}

static PyObject* Region_attach(Region* r, PyObject* args) {
  int form;
  unsigned long long fn, ctx, release;
  PyObject* keep;
  if (!PyArg_ParseTuple(args, "iKKOK", &form, &fn, &ctx, &keep, &release))
    return NULL;
  region_release(r);
  if (form < REGION_CLOSED || form > REGION_HOST || (form == REGION_UNIFORM && !fn)) {
    PyErr_SetString(PyExc_ValueError, "Region: an inconsistent memory access");
    return NULL;
  }
  r->form = form;
  r->fn = (sbx_region_fn)(uintptr_t)fn;
  r->ctx = (void*)(uintptr_t)ctx;
  r->release = (void (*)(void*))(uintptr_t)release;
  r->keep = Py_NewRef(keep);
  Py_RETURN_NONE;
}

static PyObject* Region_detach(Region* r, PyObject* unused) {
  region_release(r);
  Py_RETURN_NONE;
}

static int Region_traverse(Region* r, visitproc visit, void* arg) {
  Py_VISIT(r->keep);
  return 0;
}

static int Region_clear(Region* r) {
  region_release(r);
  return 0;
}

static void Region_dealloc(Region* r) {
  PyObject_GC_UnTrack(r);
  Region_clear(r);
  Py_TYPE(r)->tp_free((PyObject*)r);
}

static PyMethodDef Region_methods[] = {
    {"read", (PyCFunction)(void (*)(void))Region_read, METH_FASTCALL,
     "read(address, length): a copy of the span (bounds-checked)."},
    {"write", (PyCFunction)(void (*)(void))Region_write, METH_FASTCALL,
     "write(address, data): copy data in (bounds-checked)."},
    {"read_cstring", (PyCFunction)(void (*)(void))Region_read_cstring, METH_FASTCALL,
     "read_cstring(address, max_len): a NUL-terminated string of at most max_len bytes."},
    {"_attach", (PyCFunction)Region_attach, METH_VARARGS,
     "_attach(form, fn, ctx, keep, release): how to find the memory (fn(ctx, &base, "
     "&size)), what keeps it there (release(ctx) is called when detached)."},
    {"_detach", (PyCFunction)Region_detach, METH_NOARGS, "Every access goes the slow way."},
    {NULL}};

static PyTypeObject RegionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Region",
    .tp_basicsize = sizeof(Region),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Bounds-checked access to one sandbox's memory (the base of Memory).",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Region_dealloc,
    .tp_traverse = (traverseproc)Region_traverse,
    .tp_clear = (inquiry)Region_clear,
    .tp_methods = Region_methods,
};

/* -- Gate: the call state of one sandbox ------------------------------------------ */
typedef struct {
  PyObject_HEAD
  unsigned long owner; /* the thread whose calls are on the sandbox's stack */
  long depth;          /* how many */
  long callback_depth; /* callbacks on the stack */
  char unusable;       /* poisoned or closed: every call asks the sandbox why */
  char borrowed;       /* views to release before the next call */
  PyObject* pending;   /* what a callback raised, raised again by the call it ran in */
  unsigned long long scratch; /* where bytes and str arguments are copied (0: not yet) */
  long scratch_size;
  long scratch_top;    /* in use by the calls on the stack */
} Gate;

static int gate_enter(Gate* g) {
  unsigned long me = PyThread_get_thread_ident();
  if (g->depth && g->owner != me)
    return 0;
  g->owner = me;
  g->depth++;
  return 1;
}

/* Keep the raised exception for the call the callback runs in (the first one: later
   callbacks of the same call do not run). */
static void gate_hold(Gate* g) {
  PyObject* exc = take_exception();
  if (!g->pending)
    g->pending = exc;
  else
    Py_XDECREF(exc);
}

static int Gate_traverse(Gate* g, visitproc visit, void* arg) {
  Py_VISIT(g->pending);
  return 0;
}

static int Gate_clear(Gate* g) {
  Py_CLEAR(g->pending);
  return 0;
}

static void Gate_dealloc(Gate* g) {
  PyObject_GC_UnTrack(g);
  Gate_clear(g);
  Py_TYPE(g)->tp_free((PyObject*)g);
}

static PyMemberDef Gate_members[] = {
    {"unusable", T_BOOL, offsetof(Gate, unusable), 0, "poisoned or closed"},
    {"borrowed", T_BOOL, offsetof(Gate, borrowed), 0, "views to release at the next call"},
    {"scratch", T_ULONGLONG, offsetof(Gate, scratch), 0, "the scratch area's address"},
    {"scratch_size", T_LONG, offsetof(Gate, scratch_size), 0, "its size"},
    {"scratch_top", T_LONG, offsetof(Gate, scratch_top), 0, "its part in use"},
    {NULL}};

static PyTypeObject GateType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Gate",
    .tp_basicsize = sizeof(Gate),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The call state of one sandbox: usable, views borrowed, the call lock.",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Gate_dealloc,
    .tp_traverse = (traverseproc)Gate_traverse,
    .tp_clear = (inquiry)Gate_clear,
    .tp_members = Gate_members,
};

/* -- Plan: how to check one function's arguments and lift its result -------------- */
typedef struct {
  char kind; /* i: signed int, u: unsigned int, f: float, d: double, p: pointer,
                q: function pointer (of machine type `shape`) */
  int64_t lo;
  uint64_t hi;
  PyObject* shape; /* q: borrowed from its Plan */
} Param;

/* How a raw value becomes a tainted one (a result, or a callback's argument). */
typedef struct {
  char kind;  /* v(oid) i(nt) b(ool) f(loat) d(ouble) p(ointer) */
  char field; /* the raw field of an int or pointer: i(32) u(32) I(64) U(64) */
  int bits;   /* of an int narrower than 32 bits (0: as wide as its field) */
  int sign;
} Lift;

static int lift_parse(Lift* l, int kind, int field, int bits, int sign) {
  if (!strchr("vibfdp", kind) || !strchr("iuIU", field) || bits < 0 || bits >= 32) {
    PyErr_Format(PyExc_ValueError, "unknown value kind %c/%c/%d", kind, field, bits);
    return -1;
  }
  *l = (Lift){(char)kind, (char)field, bits, sign};
  return 0;
}

typedef struct {
  PyObject_HEAD
  PyObject* function; /* passed back to the sandbox's slow paths */
  PyObject* name;     /* the C name, for errors */
  PyObject* origin;   /* of the tainted result */
  PyObject* shapes;   /* of function-pointer parameters (None for the others) */
  Lift result;
  int n;
  Param params[MAX_PARAMS];
} Plan;

static PyObject* Plan_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  PyObject *function, *name, *origin, *kinds, *los, *his, *shapes;
  int result, field, bits, sign;
  static char* names[] = {"function", "name", "origin", "kinds", "lo", "hi", "shapes",
                          "result", "field", "bits", "signed", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OUUSO!O!O!CCip", names, &function, &name,
                                   &origin, &kinds, &PyTuple_Type, &los, &PyTuple_Type, &his,
                                   &PyTuple_Type, &shapes, &result, &field, &bits, &sign))
    return NULL;
  Py_ssize_t n = PyBytes_GET_SIZE(kinds);
  if (n > MAX_PARAMS || PyTuple_GET_SIZE(los) != n || PyTuple_GET_SIZE(his) != n ||
      PyTuple_GET_SIZE(shapes) != n) {
    PyErr_Format(PyExc_ValueError, "%U: at most %d parameters, one bound pair each", name,
                 MAX_PARAMS);
    return NULL;
  }
  Plan* p = (Plan*)type->tp_alloc(type, 0);
  if (!p)
    return NULL;
  p->n = (int)n;
  for (Py_ssize_t i = 0; i < n; i++) {
    Param* q = &p->params[i];
    q->kind = PyBytes_AS_STRING(kinds)[i];
    q->lo = PyLong_AsLongLong(PyTuple_GET_ITEM(los, i));
    q->hi = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(his, i));
    q->shape = PyTuple_GET_ITEM(shapes, i);
    if (PyErr_Occurred() || !strchr("iufdpqc", q->kind) ||
        (q->kind == 'q') != PyUnicode_Check(q->shape)) {
      Py_DECREF(p);
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_ValueError, "unknown parameter kind %c", q->kind);
      return NULL;
    }
  }
  if (lift_parse(&p->result, result, field, bits, sign)) {
    Py_DECREF(p);
    return NULL;
  }
  Py_INCREF(function);
  Py_INCREF(name);
  Py_INCREF(origin);
  p->shapes = Py_NewRef(shapes);
  p->function = function;
  p->name = name;
  p->origin = origin;
  return (PyObject*)p;
}

static void Plan_dealloc(Plan* p) {
  Py_XDECREF(p->function);
  Py_XDECREF(p->name);
  Py_XDECREF(p->origin);
  Py_XDECREF(p->shapes);
  Py_TYPE(p)->tp_free((PyObject*)p);
}

static PyMemberDef Plan_members[] = {
    {"name", T_OBJECT, offsetof(Plan, name), READONLY, "the C function's name"},
    {NULL}};

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Plan",
    .tp_basicsize = sizeof(Plan),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "How one C function's arguments are checked and its result lifted.",
    .tp_new = Plan_new,
    .tp_dealloc = (destructor)Plan_dealloc,
    .tp_members = Plan_members,
};

/* -- Caller ----------------------------------------------------------------------- */
typedef struct {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  Gate* gate;
  Plan* plan;
  PyObject* sandbox; /* slow paths: _check_usable, _release_borrowed, _convert, ... */
  PyObject* memory;  /* what a TaintedPtr argument must belong to; results get it */
  PyObject* failed;  /* failed(a, b): raises what a failed raw call means */
  PyObject* raw;     /* RAW_PYTHON: the callable */
  PyObject* keep;    /* what keeps fn and ctx valid */
  int form;
  sbx_call_fn fn;
  void* ctx;
} Caller;


/* An int in [lo, hi] of `q` into `out`; 0 if it is not one. */
static int int_in_range(const Param* q, PyObject* x, sbx_val* out) {
  if (!PyLong_CheckExact(x))
    return 0;
  if (q->kind == 'i') {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred()) || v < q->lo || (v > 0 && (uint64_t)v > q->hi)) {
      PyErr_Clear();
      return 0;
    }
    out->i64 = v;
    return 1;
  }
  unsigned long long v = PyLong_AsUnsignedLongLong(x);
  if ((v == (unsigned long long)-1 && PyErr_Occurred()) || v > q->hi) {
    PyErr_Clear();
    return 0;
  }
  out->u64 = v;
  return 1;
}

/* Host objects passed as pointers (an allocation, a callback, a struct view): where
   their owner and address are kept, what they must hold to pass as they are. */
typedef struct {
  PyTypeObject* type;
  Py_ssize_t owner, address, shape; /* slot offsets; shape -1: not a function */
  int nonzero;                      /* address 0 means freed or unregistered */
} Pointee;
#define MAX_POINTEES 4
static Pointee pointees[MAX_POINTEES];
static int npointees;

static PyObject* add_pointee(PyObject* self, PyObject* args) {
  PyTypeObject* type;
  const char *owner, *address, *shape;
  int nonzero;
  if (!PyArg_ParseTuple(args, "O!ssz" "p", &PyType_Type, &type, &owner, &address, &shape,
                        &nonzero))
    return NULL;
  if (npointees == MAX_POINTEES) {
    PyErr_SetString(PyExc_ValueError, "too many pointee types");
    return NULL;
  }
  Pointee* e = &pointees[npointees];
  e->shape = -1;
  if (slot_offset(type, owner, &e->owner) || slot_offset(type, address, &e->address) ||
      (shape && slot_offset(type, shape, &e->shape)))
    return NULL;
  e->type = (PyTypeObject*)Py_NewRef(type);
  e->nonzero = nonzero;
  npointees++;
  Py_RETURN_NONE;
}

/* bytes, str (UTF-8) or bytearray + NUL into the scratch area, 8-aligned, its address
   into `out` (as Sandbox.temp_copy does); 0 if it does not fit or there is none yet. */
static int copy_in(Gate* g, Region* memory, PyObject* x, sbx_val* out) {
  const char* data;
  Py_ssize_t len;
  if (PyBytes_CheckExact(x)) {
    data = PyBytes_AS_STRING(x);
    len = PyBytes_GET_SIZE(x);
  } else if (PyByteArray_CheckExact(x)) {
    data = PyByteArray_AS_STRING(x);
    len = PyByteArray_GET_SIZE(x);
  } else if (!(data = PyUnicode_AsUTF8AndSize(x, &len))) {
    PyErr_Clear(); /* not encodable: the converter says so */
    return 0;
  }
  long need = (long)((len + 8) & ~(Py_ssize_t)7);
  uint8_t* base;
  uint64_t size;
  if (!g->scratch || len > g->scratch_size || g->scratch_top + need > g->scratch_size ||
      !region_get(memory, &base, &size))
    return 0;
  uint64_t at = g->scratch + (uint64_t)g->scratch_top;
  if (at > size || (uint64_t)len + 1 > size - at)
    return 0;
  memcpy(at_address(base, at), data, (size_t)len);
  *at_address(base, at + (uint64_t)len) = 0;
  g->scratch_top += need;
  out->u64 = at;
  return 1;
}

/* The fast path of one argument; 0 if it must go to the sandbox's converter. */
static int fast_arg(PyObject* sandbox, PyObject* memory, Gate* g, const Param* q, PyObject* x,
                    sbx_val* out) {
  switch (q->kind) {
    case 'i':
    case 'u':
      return int_in_range(q, x, out);
    case 'c':
      if (PyBytes_CheckExact(x) || PyUnicode_CheckExact(x) || PyByteArray_CheckExact(x))
        return g && copy_in(g, (Region*)memory, x, out);
      /* fall through - else as any pointer */
    case 'p':
    case 'q':
      if (x == Py_None) {
        out->u64 = 0;
        return 1;
      }
      if (Py_IS_TYPE(x, tainted_ptr_type)) {
        if (SLOT(x, off_memory) != memory)
          return 0;
        return int_in_range(q, SLOT(x, off_value), out);
      }
      if (PyLong_CheckExact(x))
        return int_in_range(q, x, out);
      for (int i = 0; sandbox && i < npointees; i++) {
        const Pointee* e = &pointees[i];
        if (!PyObject_TypeCheck(x, e->type))
          continue;
        if (SLOT(x, e->owner) != sandbox || (q->kind == 'q' && e->shape < 0))
          return 0;
        if (q->kind == 'q' && (!q->shape || !SLOT(x, e->shape) ||
                               PyUnicode_Compare(SLOT(x, e->shape), q->shape) != 0)) {
          PyErr_Clear();
          return 0;
        }
        PyObject* address = SLOT(x, e->address);
        if (!address)
          return 0;
        return int_in_range(q, address, out) && !(e->nonzero && out->u64 == 0);
      }
      return 0;
    case 'f': {
      if (!PyFloat_CheckExact(x))
        return 0;
      double d = PyFloat_AS_DOUBLE(x);
      if (isfinite(d) && fabs(d) > FLT_MAX)
        return 0;
      out->u64 = 0;
      out->f32 = (float)d;
      return 1;
    }
    case 'd':
      if (!PyFloat_CheckExact(x))
        return 0;
      out->f64 = PyFloat_AS_DOUBLE(x);
      return 1;
  }
  return 0;
}

/* What the sandbox's converter made of argument i: a machine value. */
static int store_converted(const Param* q, PyObject* v, sbx_val* out) {
  if (q->kind == 'f' || q->kind == 'd') {
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred())
      return -1;
    out->u64 = 0;
    if (q->kind == 'f')
      out->f32 = (float)d;
    else
      out->f64 = d;
    return 0;
  }
  if (int_in_range(q, v, out))
    return 0;
  if (!PyErr_Occurred()) /* a converter's bug, never passed on truncated */
    PyErr_Format(argument_error, "%R does not fit the C parameter it was converted for", v);
  return -1;
}

static PyObject* lift(const Lift* l, sbx_val r, PyObject* origin, PyObject* memory) {
  switch (l->kind) {
    case 'v':
      Py_RETURN_NONE;
    case 'f':
      return tainted(tainted_type, PyFloat_FromDouble(r.f32), origin, NULL);
    case 'd':
      return tainted(tainted_type, PyFloat_FromDouble(r.f64), origin, NULL);
    case 'b':
      return tainted(tainted_type, PyBool_FromLong((r.u32 & 0xFF) != 0), origin, NULL);
  }
  uint64_t u;
  int64_t s;
  switch (l->field) {
    case 'i': s = r.i32; u = (uint64_t)s; break;
    case 'u': u = r.u32; s = (int64_t)u; break;
    case 'I': s = r.i64; u = (uint64_t)s; break;
    default: u = r.u64; s = (int64_t)u; break;
  }
  if (l->kind == 'p')
    return tainted(tainted_ptr_type, PyLong_FromUnsignedLongLong(u), origin, memory);
  if (l->bits) { /* what a C caller sees of a narrower value: the low bits, re-signed */
    u &= (UINT64_C(1) << l->bits) - 1;
    if (l->sign && (u >> (l->bits - 1)))
      return tainted(tainted_type, PyLong_FromLongLong((int64_t)u - (INT64_C(1) << l->bits)),
                     origin, NULL);
    return tainted(tainted_type, PyLong_FromUnsignedLongLong(u), origin, NULL);
  }
  PyObject* v = (l->field == 'i' || l->field == 'I') ? PyLong_FromLongLong(s)
                                                     : PyLong_FromUnsignedLongLong(u);
  return tainted(tainted_type, v, origin, NULL);
}

/* Let the backend raise what a failed call means (`a`, `b` stolen); -1. */
static int report_failure(Caller* c, PyObject* a, PyObject* b) {
  PyObject* args[2] = {a, b};
  PyObject* r = (a && b && c->failed != Py_None) ? PyObject_Vectorcall(c->failed, args, 2, NULL)
                                                : NULL;
  Py_XDECREF(a);
  Py_XDECREF(b);
  Py_XDECREF(r);
  if (!PyErr_Occurred())
    PyErr_Format(PyExc_SystemError, "%U(): the call failed without a reason", c->plan->name);
  return -1;
}

/* The raw call; 0, or -1 with the backend's exception set. */
static int raw_call(Caller* c, sbx_val* v, int n) {
  Plan* p = c->plan;
  if (c->form == RAW_UNIFORM) {
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = c->fn(c->ctx, v);
    Py_END_ALLOW_THREADS
    if (!failed)
      return 0;
    return report_failure(c, PyLong_FromLong(failed), PyLong_FromLong(0));
  }
  PyObject* args[MAX_PARAMS];
  for (int i = 0; i < n; i++) {
    char k = p->params[i].kind;
    args[i] = k == 'i' ? PyLong_FromLongLong(v[i].i64)
              : k == 'f' ? PyFloat_FromDouble(v[i].f32)
              : k == 'd' ? PyFloat_FromDouble(v[i].f64)
                         : PyLong_FromUnsignedLongLong(v[i].u64);
    if (!args[i]) {
      while (i--)
        Py_DECREF(args[i]);
      return -1;
    }
  }
  PyObject* r = PyObject_Vectorcall(c->raw, args, (size_t)n, NULL);
  for (int i = 0; i < n; i++)
    Py_DECREF(args[i]);
  if (!r)
    return -1;
  int bad = 0;
  if (p->result.kind == 'f' || p->result.kind == 'd') {
    double d = PyFloat_AsDouble(r);
    bad = d == -1.0 && PyErr_Occurred();
    if (p->result.kind == 'f')
      v[0].f32 = (float)d;
    else
      v[0].f64 = d;
  } else if (p->result.kind != 'v') {
    v[0].u64 = PyLong_AsUnsignedLongLongMask(r);
    bad = v[0].u64 == (unsigned long long)-1 && PyErr_Occurred();
  }
  Py_DECREF(r);
  return bad ? -1 : 0;
}

/* Replace the raised exception by what the sandbox makes of it (it poisons itself). */
static void escaped(Caller* c) {
  PyObject* exc = take_exception();
  PyObject* args[2] = {c->plan->name, exc};
  PyObject* out = exc ? call_method(c->sandbox, "_escaped", args, 2) : NULL;
  Py_XDECREF(exc);
  if (!out)
    return;
  if (out != exc) { /* raise ... from None */
    PyException_SetCause(out, NULL);
    ((PyBaseExceptionObject*)out)->suppress_context = 1;
  }
  restore_exception(out);
}

static PyObject* Caller_call(Caller* c, PyObject* const* args, size_t nargsf, PyObject* kw) {
  Plan* p = c->plan;
  Gate* g = c->gate;
  Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  if ((kw && PyTuple_GET_SIZE(kw)) || n != p->n) {
    PyErr_Format(argument_error, "%U() takes %d argument(s), got %zd%s", p->name,
                 p->n, n, kw && PyTuple_GET_SIZE(kw) ? " and keywords" : "");
    return NULL;
  }
  if (g->unusable) {
    PyObject* r = call_method(c->sandbox, "_check_usable", NULL, 0);
    if (!r)
      return NULL;
    Py_DECREF(r);
  }
  if (g->borrowed) {
    PyObject* r = call_method(c->sandbox, "_release_borrowed", NULL, 0);
    if (!r)
      return NULL;
    Py_DECREF(r);
  }
  /* the lock first: the scratch area the arguments are copied to is the holder's */
  if (!gate_enter(g)) {
    PyObject* r = call_method(c->sandbox, "_busy", NULL, 0);
    Py_XDECREF(r);
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_RuntimeError, "sandbox busy");
    return NULL;
  }
  long mark = g->scratch_top;
  sbx_val v[MAX_PARAMS + 1];
  PyObject *temps = NULL, *result = NULL;
  for (Py_ssize_t i = 0; i < n; i++) {
    const Param* q = &p->params[i];
    if (fast_arg(c->sandbox, c->memory, g, q, args[i], &v[i]))
      continue;
    if (strchr("pqc", q->kind) && !temps && !(temps = PyList_New(0)))
      goto done; /* copies that do not fit the scratch area live until the call returns */
    PyObject* index = PyLong_FromSsize_t(i);
    if (!index)
      goto done;
    PyObject* cargs[4] = {p->function, index, args[i], temps ? temps : Py_None};
    PyObject* conv = call_method(c->sandbox, "_convert", cargs, 4);
    Py_DECREF(index);
    if (!conv)
      goto done;
    int bad = store_converted(q, conv, &v[i]);
    Py_DECREF(conv);
    if (bad)
      goto done;
  }
  if (g->unusable) { /* converting an argument (a user's __index__) closed or poisoned it */
    PyObject* r = call_method(c->sandbox, "_check_usable", NULL, 0);
    if (!r)
      goto done;
    Py_DECREF(r);
  }
  int failed = raw_call(c, v, (int)n);
  if (g->pending) { /* a callback raised: that is what the call raises */
    PyErr_Clear();
    restore_exception(g->pending);
    g->pending = NULL;
    failed = 1;
  }
  if (failed)
    escaped(c);
  else
    result = lift(&p->result, v[0], p->origin, c->memory);
done:
  g->scratch_top = mark;
  if (temps && PyList_GET_SIZE(temps)) {
    PyObject* exc = take_exception();
    PyObject* r = call_method(c->sandbox, "_free_temps", &temps, 1);
    if (r) {
      Py_DECREF(r);
      restore_exception(exc); /* NULL: none was raised */
    } else {
      Py_CLEAR(result);
      Py_XDECREF(exc);
    }
  }
  Py_XDECREF(temps);
  g->depth--;
  return result;
}

static PyObject* Caller_checked(Caller* c, PyObject* const* args, size_t nargsf,
                                PyObject* kw);

static PyObject* Caller_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  Gate* gate;
  Plan* plan;
  PyObject *sandbox, *memory, *failed, *raw, *keep;
  int form;
  unsigned long long fn, ctx;
  static char* names[] = {"gate", "plan", "sandbox", "memory", "failed", "form", "fn", "ctx",
                          "raw", "keep", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!OOOiKKOO", names, &GateType, &gate,
                                   &PlanType, &plan, &sandbox, &memory, &failed, &form, &fn,
                                   &ctx, &raw, &keep))
    return NULL;
  int bad = form < RAW_UNIFORM || form > RAW_PYTHON || !PyObject_TypeCheck(memory, &RegionType) ||
            (form == RAW_UNIFORM && !fn) || (form == RAW_PYTHON && !PyCallable_Check(raw));
  if (bad) {
    PyErr_SetString(PyExc_ValueError, "Caller: an inconsistent raw call");
    return NULL;
  }
  Caller* c = (Caller*)type->tp_alloc(type, 0);
  if (!c)
    return NULL;
  c->vectorcall = (vectorcallfunc)Caller_checked;
  Py_INCREF(gate);
  Py_INCREF(plan);
  c->gate = gate;
  c->plan = plan;
  c->sandbox = Py_NewRef(sandbox);
  c->memory = Py_NewRef(memory);
  c->failed = Py_NewRef(failed);
  c->raw = Py_NewRef(raw);
  c->keep = Py_NewRef(keep);
  c->form = form;
  c->fn = (sbx_call_fn)(uintptr_t)fn;
  c->ctx = (void*)(uintptr_t)ctx;
  return (PyObject*)c;
}

static int Caller_traverse(Caller* c, visitproc visit, void* arg) {
  Py_VISIT(c->gate);
  Py_VISIT(c->plan);
  Py_VISIT(c->sandbox);
  Py_VISIT(c->memory);
  Py_VISIT(c->failed);
  Py_VISIT(c->raw);
  Py_VISIT(c->keep);
  return 0;
}

static int Caller_clear(Caller* c) {
  Py_CLEAR(c->gate);
  Py_CLEAR(c->plan);
  Py_CLEAR(c->sandbox);
  Py_CLEAR(c->memory);
  Py_CLEAR(c->failed);
  Py_CLEAR(c->raw);
  Py_CLEAR(c->keep);
  return 0;
}

static PyObject* Caller_checked(Caller* c, PyObject* const* args, size_t nargsf, PyObject* kw) {
  /* a cleared caller (a collected cycle) is unusable, never a crash */
  if (!c->plan || !c->gate) {
    PyErr_SetString(PyExc_RuntimeError, "this caller's sandbox is gone");
    return NULL;
  }
  return Caller_call(c, args, nargsf, kw);
}

static void Caller_dealloc(Caller* c) {
  PyObject_GC_UnTrack(c);
  Caller_clear(c);
  Py_TYPE(c)->tp_free((PyObject*)c);
}

static PyObject* Caller_repr(Caller* c) {
  return c->plan ? PyUnicode_FromFormat("<sandboxed C function %U>", c->plan->name)
                 : PyUnicode_FromString("<sandboxed C function (gone)>");
}

static PyObject* Caller_get_name(Caller* c, void* unused) {
  return Py_NewRef(c->plan ? c->plan->name : Py_None);
}

static PyGetSetDef Caller_getset[] = {
    {"__name__", (getter)Caller_get_name, NULL, "the C function's name", NULL},
    {NULL}};

static PyTypeObject CallerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Caller",
    .tp_basicsize = sizeof(Caller),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "One C function of one sandbox, called with every check.",
    .tp_new = Caller_new,
    .tp_dealloc = (destructor)Caller_dealloc,
    .tp_traverse = (traverseproc)Caller_traverse,
    .tp_clear = (inquiry)Caller_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Caller, vectorcall),
    .tp_repr = (reprfunc)Caller_repr,
    .tp_getset = Caller_getset,
};

/* -- Callback: a host function the sandboxed code calls ---------------------------- */
typedef struct {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  Gate* gate;
  PyObject* fn;      /* the host's function */
  PyObject* memory;  /* pointer arguments point into it; a pointer result must too */
  PyObject* slow;    /* too_deep(depth), poisoned(), finish(value): errors and conversions */
  PyObject* origins; /* of each tainted argument */
  long max_depth;
  char removed;      /* calls from now on are calls to an unregistered callback */
  int n;
  Param result;      /* kind 'v': no result */
  Lift args[MAX_PARAMS];
} Callback;

/* Run the callback on raw values (the result, if any, into v[0]); with the GIL. It
   may remove itself while it runs: what it uses is held for the run. */
static int callback_run(Callback* cb, sbx_val* v) {
  Gate* g = cb->gate;
  if (cb->removed || !g)
    return SBX_CALLBACK_REMOVED;
  if (g->pending) /* an earlier callback of this call raised: the call is failing */
    return SBX_CALLBACK_FAILED;
  Py_INCREF(g);
  PyObject* fn = Py_NewRef(cb->fn);
  PyObject* slow = Py_NewRef(cb->slow);
  PyObject* memory = Py_NewRef(cb->memory);
  PyObject* origins = Py_NewRef(cb->origins);
  PyObject* r = NULL;
  PyObject* a[MAX_PARAMS];
  int n = 0;
  if (g->callback_depth >= cb->max_depth) {
    PyObject* depth = PyLong_FromLong(g->callback_depth);
    PyObject* ok = depth ? call_method(slow, "too_deep", &depth, 1) : NULL;
    Py_XDECREF(depth);
    Py_XDECREF(ok);
    goto done;
  }
  for (; n < cb->n; n++) {
    a[n] = lift(&cb->args[n], v[n], PyTuple_GET_ITEM(origins, n), memory);
    if (!a[n])
      goto done;
  }
  g->callback_depth++;
  r = PyObject_Vectorcall(fn, a, (size_t)n, NULL);
  g->callback_depth--;
  if (r && g->unusable) { /* a nested call poisoned the sandbox and the callback went on */
    PyObject* ok = call_method(slow, "poisoned", NULL, 0);
    if (!ok)
      Py_CLEAR(r);
    Py_XDECREF(ok);
  }
  if (r && cb->result.kind != 'v' && !fast_arg(NULL, memory, NULL, &cb->result, r, &v[0])) {
    PyObject* conv = call_method(slow, "finish", &r, 1);
    if (!conv || store_converted(&cb->result, conv, &v[0]))
      Py_CLEAR(r);
    Py_XDECREF(conv);
  }
done:
  while (n--)
    Py_DECREF(a[n]);
  int rc = SBX_CALLBACK_OK;
  if (!r) {
    gate_hold(g);
    rc = SBX_CALLBACK_FAILED;
  }
  Py_XDECREF(r);
  Py_DECREF(fn);
  Py_DECREF(slow);
  Py_DECREF(memory);
  Py_DECREF(origins);
  Py_DECREF(g);
  return rc;
}

/* What sandboxed code calls (through the backend's trampoline), without the GIL. */
static int callback_dispatch(void* target, sbx_val* v) {
  PyGILState_STATE st = PyGILState_Ensure();
  int rc = callback_run((Callback*)target, v);
  PyGILState_Release(st);
  return rc;
}

/* Called from Python (the native backend's C-typed trampolines): raw numbers in, the
   raw result out; on failure the exception waits in the gate and 0 comes back. */
static PyObject* Callback_call(Callback* cb, PyObject* const* args, size_t nargsf,
                               PyObject* kw) {
  Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  if (n != cb->n || (kw && PyTuple_GET_SIZE(kw))) {
    PyErr_Format(PyExc_TypeError, "callback takes %d raw argument(s)", cb->n);
    return NULL;
  }
  sbx_val v[MAX_PARAMS + 1] = {{0}};
  for (Py_ssize_t i = 0; i < n; i++) {
    const Lift* l = &cb->args[i];
    if (l->kind == 'f' || l->kind == 'd') {
      double d = PyFloat_AsDouble(args[i]);
      if (l->kind == 'f')
        v[i].f32 = (float)d;
      else
        v[i].f64 = d;
    } else {
      v[i].u64 = PyLong_AsUnsignedLongLongMask(args[i]);
    }
    if (PyErr_Occurred())
      return NULL;
  }
  int rc = callback_run(cb, v);
  if (cb->result.kind == 'v')
    Py_RETURN_NONE;
  if (rc)
    v[0].u64 = 0;
  switch (cb->result.kind) {
    case 'f': return PyFloat_FromDouble(v[0].f32);
    case 'd': return PyFloat_FromDouble(v[0].f64);
    case 'i': return PyLong_FromLongLong(v[0].i64);
    default: return PyLong_FromUnsignedLongLong(v[0].u64);
  }
}

static PyObject* Callback_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  Gate* gate;
  PyObject *fn, *memory, *slow, *origins, *lifts, *result;
  long max_depth;
  static char* names[] = {"gate", "fn", "memory", "slow", "origins", "lifts", "result",
                          "max_depth", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O!OOOO!O!Ol", names, &GateType, &gate, &fn,
                                   &memory, &slow, &PyTuple_Type, &origins, &PyTuple_Type,
                                   &lifts, &result, &max_depth))
    return NULL;
  Py_ssize_t n = PyTuple_GET_SIZE(lifts);
  if (n > MAX_PARAMS || PyTuple_GET_SIZE(origins) != n) {
    PyErr_Format(PyExc_ValueError, "a callback has at most %d parameters, one origin each",
                 MAX_PARAMS);
    return NULL;
  }
  Callback* cb = (Callback*)type->tp_alloc(type, 0);
  if (!cb)
    return NULL;
  cb->n = (int)n;
  for (Py_ssize_t i = 0; i < n; i++) {
    int kind, field, bits, sign;
    if (!PyArg_ParseTuple(PyTuple_GET_ITEM(lifts, i), "CCip", &kind, &field, &bits, &sign) ||
        lift_parse(&cb->args[i], kind, field, bits, sign)) {
      Py_DECREF(cb);
      return NULL;
    }
  }
  int kind = 'v';
  long long lo = 0;
  unsigned long long hi = 0;
  if (result != Py_None && !PyArg_ParseTuple(result, "CLK", &kind, &lo, &hi)) {
    Py_DECREF(cb);
    return NULL;
  }
  cb->result = (Param){(char)kind, lo, hi};
  cb->vectorcall = (vectorcallfunc)Callback_call;
  cb->gate = (Gate*)Py_NewRef(gate);
  cb->fn = Py_NewRef(fn);
  cb->memory = Py_NewRef(memory);
  cb->slow = Py_NewRef(slow);
  cb->origins = Py_NewRef(origins);
  cb->max_depth = max_depth;
  return (PyObject*)cb;
}

static int Callback_traverse(Callback* cb, visitproc visit, void* arg) {
  Py_VISIT(cb->gate);
  Py_VISIT(cb->fn);
  Py_VISIT(cb->memory);
  Py_VISIT(cb->slow);
  Py_VISIT(cb->origins);
  return 0;
}

static int Callback_clear(Callback* cb) {
  Py_CLEAR(cb->gate);
  Py_CLEAR(cb->fn);
  Py_CLEAR(cb->memory);
  Py_CLEAR(cb->slow);
  Py_CLEAR(cb->origins);
  return 0;
}

static void Callback_dealloc(Callback* cb) {
  PyObject_GC_UnTrack(cb);
  Callback_clear(cb);
  Py_TYPE(cb)->tp_free((PyObject*)cb);
}

/* From now on a call traps as a call to an unregistered callback; what it referred
   to is let go (the object itself may still be reached from C until its instance
   goes). */
static PyObject* Callback_remove(Callback* cb, PyObject* unused) {
  cb->removed = 1;
  Callback_clear(cb);
  Py_RETURN_NONE;
}

static PyObject* Callback_address(Callback* cb, void* unused) {
  return PyLong_FromVoidPtr(cb);
}

static PyMethodDef Callback_methods[] = {
    {"remove", (PyCFunction)Callback_remove, METH_NOARGS,
     "Calls from now on trap as calls to an unregistered callback."},
    {NULL}};

static PyGetSetDef Callback_getset[] = {
    {"address", (getter)Callback_address, NULL,
     "The C pointer trampolines pass to the dispatcher (valid while this object lives).",
     NULL},
    {NULL}};

static PyTypeObject CallbackType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Callback",
    .tp_basicsize = sizeof(Callback),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "A host function sandboxed code calls: tainted arguments, a checked result.",
    .tp_new = Callback_new,
    .tp_dealloc = (destructor)Callback_dealloc,
    .tp_traverse = (traverseproc)Callback_traverse,
    .tp_clear = (inquiry)Callback_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Callback, vectorcall),
    .tp_methods = Callback_methods,
    .tp_getset = Callback_getset,
};

/* -- Field: a scalar or pointer field of a struct view, read and written in C --------
   Per data model (wasm32 in a sandbox, the host's natively) it keeps where the field
   is and how its value is checked and lifted; the Python subclass (runtime/structs.py)
   computes that once per model (_prepare) and does everything off the fast path
   (a view's _read/_write: out of bounds, a closed sandbox, a value to convert). */
typedef struct {
  PyObject* model;
  uint64_t offset;
  int size;
  Lift lift;
  Param param;
  PyObject* origin;
  PyObject* shape; /* of a function-pointer field (None otherwise) */
} FieldModel;

typedef struct {
  PyObject_HEAD
  PyObject* name;
  PyObject* type;
  int nmodels;
  FieldModel models[2];
} Field;

static PyTypeObject* struct_type;
static Py_ssize_t off_view_sandbox, off_view_address, off_view_memory, off_view_model;

static PyObject* setup_struct(PyObject* self, PyObject* arg) {
  if (!PyType_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "setup_struct(Struct)");
    return NULL;
  }
  PyTypeObject* t = (PyTypeObject*)arg;
  if (slot_offset(t, "_sandbox", &off_view_sandbox) ||
      slot_offset(t, "_address", &off_view_address) ||
      slot_offset(t, "_memory", &off_view_memory) || slot_offset(t, "_model", &off_view_model))
    return NULL;
  Py_XSETREF(struct_type, (PyTypeObject*)Py_NewRef(t));
  Py_RETURN_NONE;
}

/* The field's placement in the view's model (asked of _prepare the first time). */
static FieldModel* field_model(Field* f, PyObject* model) {
  for (int i = 0; i < f->nmodels; i++)
    if (f->models[i].model == model)
      return &f->models[i];
  if (f->nmodels == 2)
    return NULL;
  PyObject* info = call_method((PyObject*)f, "_prepare", &model, 1);
  if (!info)
    return NULL;
  FieldModel m = {0};
  unsigned long long offset;
  int kind, field, bits, sign, pkind;
  long long lo;
  unsigned long long hi;
  PyObject *origin, *shape;
  int ok = PyArg_ParseTuple(info, "KiCCipCLKUO", &offset, &m.size, &kind, &field, &bits, &sign,
                            &pkind, &lo, &hi, &origin, &shape);
  if (ok && kind == 's') /* a nested struct: `shape` is its view class */
    ok = m.size == 0 && PyType_Check(shape) &&
         PyType_IsSubtype((PyTypeObject*)shape, struct_type) && !lift_parse(&m.lift, 'v', 'i', 0, 0);
  else if (ok)
    ok = m.size > 0 && m.size <= 8 && !lift_parse(&m.lift, kind, field, bits, sign) &&
         strchr("iufdpq", pkind) && (pkind == 'q') == PyUnicode_Check(shape);
  if (ok && kind == 's')
    m.lift.kind = 's';
  if (ok) {
    m.model = Py_NewRef(model);
    m.offset = offset;
    m.shape = Py_NewRef(shape);
    m.param = (Param){(char)pkind, lo, hi, m.shape};
    m.origin = Py_NewRef(origin);
    f->models[f->nmodels++] = m;
  } else if (!PyErr_Occurred()) {
    PyErr_Format(PyExc_ValueError, "field %U: an inconsistent placement", f->name);
  }
  Py_DECREF(info);
  return ok ? &f->models[f->nmodels - 1] : NULL;
}

/* The field's bytes in the view's memory, or NULL (the slow path decides). */
static uint8_t* field_at(Field* f, PyObject* view, FieldModel** fm) {
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
  return NULL; /* sandbox memory is little-endian: the Python path converts */
#endif
  if (!struct_type || !PyObject_TypeCheck(view, struct_type))
    return NULL;
  PyObject* address = SLOT(view, off_view_address);
  PyObject* memory = SLOT(view, off_view_memory);
  PyObject* model = SLOT(view, off_view_model);
  if (!address || !memory || !model || !PyLong_CheckExact(address) ||
      !PyObject_TypeCheck(memory, &RegionType) || !(*fm = field_model(f, model)))
    return NULL;
  unsigned long long a = PyLong_AsUnsignedLongLong(address);
  if ((a == (unsigned long long)-1 && PyErr_Occurred()) || a + (*fm)->offset < a) {
    PyErr_Clear();
    return NULL;
  }
  return region_at((Region*)memory, a + (*fm)->offset, (uint64_t)(*fm)->size);
}

/* A view of the struct nested in `view` (inside it, so inside the memory: no check
   beyond the one the outer view had). */
static PyObject* nested_view(PyObject* view, FieldModel* fm) {
  PyTypeObject* type = (PyTypeObject*)fm->shape;
  PyObject* offset = PyLong_FromUnsignedLongLong(fm->offset);
  PyObject* address = offset ? PyNumber_Add(SLOT(view, off_view_address), offset) : NULL;
  Py_XDECREF(offset);
  PyObject* inner = address ? type->tp_alloc(type, 0) : NULL;
  if (!inner) {
    Py_XDECREF(address);
    return NULL;
  }
  SLOT(inner, off_view_address) = address;
  Py_ssize_t offs[3] = {off_view_sandbox, off_view_memory, off_view_model};
  for (int i = 0; i < 3; i++)
    SLOT(inner, offs[i]) = Py_NewRef(SLOT(view, offs[i]));
  return inner;
}

static PyObject* Field_get(Field* f, PyObject* view, PyObject* owner) {
  if (!view || view == Py_None)
    return Py_NewRef(f);
  FieldModel* fm = NULL;
  uint8_t* at = field_at(f, view, &fm);
  if (at && fm->lift.kind == 's')
    return nested_view(view, fm);
  if (at) {
    sbx_val v = {0};
    memcpy(&v, at, (size_t)fm->size); /* the low bytes: little-endian (see field_at) */
    return lift(&fm->lift, v, fm->origin, SLOT(view, off_view_memory));
  }
  if (PyErr_Occurred())
    return NULL;
  PyObject* args[2] = {f->name, f->type};
  return call_method(view, "_read", args, 2);
}

static int Field_set(Field* f, PyObject* view, PyObject* value) {
  if (!value) {
    PyErr_Format(PyExc_AttributeError, "struct field %U cannot be deleted", f->name);
    return -1;
  }
  FieldModel* fm = NULL;
  uint8_t* at = field_at(f, view, &fm);
  sbx_val v = {0};
  if (at && fm->lift.kind != 's' &&
      fast_arg(SLOT(view, off_view_sandbox), SLOT(view, off_view_memory), NULL,
                     &fm->param, value, &v)) {
    memcpy(at, &v, (size_t)fm->size);
    return 0;
  }
  if (PyErr_Occurred())
    return -1;
  PyObject* args[3] = {f->name, f->type, value};
  PyObject* r = call_method(view, "_write", args, 3);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

static int Field_init(Field* f, PyObject* args, PyObject* kw) {
  PyObject *name, *type;
  if (!PyArg_ParseTuple(args, "UO", &name, &type))
    return -1;
  Py_XSETREF(f->name, Py_NewRef(name));
  Py_XSETREF(f->type, Py_NewRef(type));
  return 0;
}

static int Field_traverse(Field* f, visitproc visit, void* arg) {
  Py_VISIT(f->name);
  Py_VISIT(f->type);
  for (int i = 0; i < f->nmodels; i++) {
    Py_VISIT(f->models[i].model);
    Py_VISIT(f->models[i].origin);
    Py_VISIT(f->models[i].shape);
  }
  return 0;
}

static int Field_clear(Field* f) {
  Py_CLEAR(f->name);
  Py_CLEAR(f->type);
  for (int i = 0; i < f->nmodels; i++) {
    Py_CLEAR(f->models[i].model);
    Py_CLEAR(f->models[i].origin);
    Py_CLEAR(f->models[i].shape);
  }
  f->nmodels = 0;
  return 0;
}

static void Field_dealloc(Field* f) {
  PyObject_GC_UnTrack(f);
  Field_clear(f);
  Py_TYPE(f)->tp_free((PyObject*)f);
}

static PyMemberDef Field_members[] = {
    {"name", T_OBJECT, offsetof(Field, name), READONLY, "the field's name"},
    {"type", T_OBJECT, offsetof(Field, type), READONLY, "the field's C type"},
    {NULL}};

static PyTypeObject FieldType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Field",
    .tp_basicsize = sizeof(Field),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A scalar or pointer field of a struct view (runtime/structs.py subclasses it).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Field_init,
    .tp_dealloc = (destructor)Field_dealloc,
    .tp_traverse = (traverseproc)Field_traverse,
    .tp_clear = (inquiry)Field_clear,
    .tp_descr_get = (descrgetfunc)Field_get,
    .tp_descr_set = (descrsetfunc)Field_set,
    .tp_members = Field_members,
};

/* -- module ----------------------------------------------------------------------- */
static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(Tainted, TaintedPtr, ArgumentError): the types results and errors are made of."},
    {"add_pointee", add_pointee, METH_VARARGS,
     "add_pointee(type, owner slot, address slot, shape slot or None, nonzero): instances "
     "pass as pointers as they are when their owner is the sandbox called."},
    {"setup_struct", setup_struct, METH_O,
     "setup_struct(Struct): the view type whose _sandbox, _address, _memory and _model "
     "slots Field reads."},
    {NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "sandboxlib._boundary",
                                    "The compiled boundary: checked calls into sandboxes.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__boundary(void) {
  PyObject* m = PyModule_Create(&module);
  if (!m)
    return NULL;
  PyTypeObject* types[] = {&RegionType, &GateType, &PlanType, &CallerType, &CallbackType,
                           &FieldType};
  const char* names[] = {"Region", "Gate", "Plan", "Caller", "Callback", "Field"};
  for (int i = 0; i < 6; i++) {
    if (PyType_Ready(types[i]) < 0 || PyModule_AddObjectRef(m, names[i], (PyObject*)types[i]) < 0) {
      Py_DECREF(m);
      return NULL;
    }
  }
  if (PyModule_AddIntConstant(m, "RAW_UNIFORM", RAW_UNIFORM) ||
      PyModule_AddIntConstant(m, "RAW_PYTHON", RAW_PYTHON) ||
      PyModule_AddIntConstant(m, "MAX_PARAMS", MAX_PARAMS) ||
      PyModule_AddIntConstant(m, "REGION_CLOSED", REGION_CLOSED) ||
      PyModule_AddIntConstant(m, "REGION_UNIFORM", REGION_UNIFORM) ||
      PyModule_AddIntConstant(m, "REGION_HOST", REGION_HOST) ||
      PyModule_AddObject(m, "CALLBACK_DISPATCH", PyLong_FromVoidPtr((void*)callback_dispatch))) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
