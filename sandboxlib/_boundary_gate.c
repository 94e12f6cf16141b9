/* sandboxlib._boundary: Gate, the call state of one sandbox. */
#include "_boundary_internal.h"

/* -- Gate: the call state of one sandbox ------------------------------------------ */

int gate_enter(Gate* g) {
  unsigned long me = PyThread_get_thread_ident();
  if (g->depth && g->owner != me)
    return 0;
  g->owner = me;
  g->depth++;
  return 1;
}

/* Keep the raised exception for the call the callback runs in (the first one: later
   callbacks of the same call do not run). */
void gate_hold(Gate* g) {
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
    {"depth", T_LONG, offsetof(Gate, depth), READONLY, "calls of the sandbox now running"},
    {NULL}};

PyTypeObject GateType = {
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
