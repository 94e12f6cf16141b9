/* sandboxlib._boundary: Caller, the checked caller every sandboxed C function is
   called through.

   A Caller does, in C, what the sandbox promises for every call: the argument
   count, the sandbox usable (not poisoned, not closed), borrowed views released,
   each argument range-checked for its C type (a pointer: NULL, a plain address in
   range, or a TaintedPtr of this very sandbox), the one-caller lock (re-entrant on
   the thread that holds it: callbacks call back in), the raw call with the GIL
   released, and a tainted result (sub-int results truncated as C would). Anything
   off the fast path (a value of another type, a refused value, bytes copied in, a
   failed call) goes to the sandbox's Python code, which converts or raises the
   error naming the function and argument: the rules live there once, and the C
   only accepts what they would accept unchanged.

   The raw call is the one form every backend provides (an sbx_call_fn, see
   _boundary.h: each backend's adapter makes one per function). */
#include "_boundary_internal.h"

typedef struct {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  Gate* gate;
  Plan* plan;
  PyObject* sandbox; /* slow paths: _check_usable, _release_borrowed, _convert, ... */
  PyObject* memory;  /* what a TaintedPtr argument must belong to; results get it */
  PyObject* failed;  /* failed(a, b): raises what a failed raw call means */
  PyObject* keep;    /* what keeps fn and ctx valid */
  PyObject* doc;     /* __doc__: the C prototype, set by the proxy that binds it */
  sbx_call_fn fn;
  void* ctx;
} Caller;
/* -- Caller ----------------------------------------------------------------------- */

/* Let the backend raise what a failed call means (`a`, `b` stolen); -1. */
static int report_failure(Caller* c, PyObject* a, PyObject* b) {
  PyObject* args[2] = {a, b};
  PyObject* r =
      (a && b && c->failed != Py_None) ? PyObject_Vectorcall(c->failed, args, 2, NULL) : NULL;
  Py_XDECREF(a);
  Py_XDECREF(b);
  Py_XDECREF(r);
  if (!PyErr_Occurred())
    PyErr_Format(PyExc_SystemError, "%U(): the call failed without a reason", c->plan->name);
  return -1;
}

/* The raw call; 0, or -1 with the backend's exception set. */
static int raw_call(Caller* c, sbx_val* v) {
  int failed;
  Py_BEGIN_ALLOW_THREADS
  failed = c->fn(c->ctx, v);
  Py_END_ALLOW_THREADS
  if (!failed)
    return 0;
  return report_failure(c, PyLong_FromLong(failed), PyLong_FromLong(0));
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
    PyErr_Format(S.argument_error, "%U() takes %d argument(s), got %zd%s", p->name, p->n, n,
                 kw && PyTuple_GET_SIZE(kw) ? " and keywords" : "");
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
  int failed = raw_call(c, v);
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

static PyObject* Caller_checked(Caller* c, PyObject* const* args, size_t nargsf, PyObject* kw);

static PyObject* Caller_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  Gate* gate;
  Plan* plan;
  PyObject *sandbox, *memory, *failed, *keep;
  unsigned long long fn, ctx;
  static char* names[] = {"gate", "plan", "sandbox", "memory", "failed", "fn", "ctx", "keep", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!OOOKKO", names, &GateType, &gate, &PlanType,
                                   &plan, &sandbox, &memory, &failed, &fn, &ctx, &keep) ||
      !boundary_ready(0))
    return NULL;
  if (!PyObject_TypeCheck(memory, &RegionType) || !fn) {
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
  c->keep = Py_NewRef(keep);
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
  Py_VISIT(c->keep);
  Py_VISIT(c->doc);
  return 0;
}

static int Caller_clear(Caller* c) {
  Py_CLEAR(c->gate);
  Py_CLEAR(c->plan);
  Py_CLEAR(c->sandbox);
  Py_CLEAR(c->memory);
  Py_CLEAR(c->failed);
  Py_CLEAR(c->keep);
  Py_CLEAR(c->doc);
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

static PyObject* Caller_get_doc(Caller* c, void* unused) {
  return Py_NewRef(c->doc ? c->doc : Py_None);
}

static int Caller_set_doc(Caller* c, PyObject* doc, void* unused) {
  Py_XSETREF(c->doc, Py_XNewRef(doc));
  return 0;
}

static PyGetSetDef Caller_getset[] = {
    {"__name__", (getter)Caller_get_name, NULL, "the C function's name", NULL},
    {"__doc__", (getter)Caller_get_doc, (setter)Caller_set_doc, "the C prototype", NULL},
    {NULL}};

PyTypeObject CallerType = {
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
