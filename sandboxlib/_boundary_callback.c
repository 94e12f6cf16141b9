/* sandboxlib._boundary: Callback, a host function sandboxed code calls. */
#include "_boundary_internal.h"

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
  char removed; /* calls from now on are calls to an unregistered callback */
  int n;
  Param result; /* kind 'v': no result */
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
int callback_dispatch(void* target, sbx_val* v) {
  PyGILState_STATE st = PyGILState_Ensure();
  int rc = callback_run((Callback*)target, v);
  PyGILState_Release(st);
  return rc;
}

/* Called from Python (a backend's trampolines written with cffi): raw numbers in, the
   raw result out; on failure the exception waits in the gate and 0 comes back. */
static PyObject* Callback_call(Callback* cb, PyObject* const* args, size_t nargsf, PyObject* kw) {
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
    case 'f':
      return PyFloat_FromDouble(v[0].f32);
    case 'd':
      return PyFloat_FromDouble(v[0].f64);
    case 'i':
      return PyLong_FromLongLong(v[0].i64);
    default:
      return PyLong_FromUnsignedLongLong(v[0].u64);
  }
}

static PyObject* Callback_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  Gate* gate;
  PyObject *fn, *memory, *slow, *origins, *lifts, *result;
  long max_depth;
  static char* names[] = {"gate",  "fn",     "memory",    "slow", "origins",
                          "lifts", "result", "max_depth", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O!OOOO!O!Ol", names, &GateType, &gate, &fn, &memory,
                                   &slow, &PyTuple_Type, &origins, &PyTuple_Type, &lifts, &result,
                                   &max_depth) ||
      !boundary_ready(0))
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
     "The C pointer trampolines pass to the dispatcher (valid while this object lives).", NULL},
    {NULL}};

PyTypeObject CallbackType = {
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
