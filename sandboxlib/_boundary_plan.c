/* sandboxlib._boundary: Plan, how one function's arguments are checked and its result
   lifted. */
#include "_boundary_internal.h"

/* -- Plan: how to check one function's arguments and lift its result -------------- */

int lift_parse(Lift* l, int kind, int field, int bits, int sign) {
  if (!strchr("vibfdp", kind) || !strchr("iuIU", field) || bits < 0 || bits >= 32) {
    PyErr_Format(PyExc_ValueError, "unknown value kind %c/%c/%d", kind, field, bits);
    return -1;
  }
  *l = (Lift){(char)kind, (char)field, bits, sign};
  return 0;
}

static PyObject* Plan_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  PyObject *function, *name, *origin, *kinds, *los, *his, *shapes;
  int result, field, bits, sign;
  static char* names[] = {"function", "name",   "origin", "kinds", "lo",     "hi",
                          "shapes",   "result", "field",  "bits",  "signed", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OUUSO!O!O!CCip", names, &function, &name, &origin,
                                   &kinds, &PyTuple_Type, &los, &PyTuple_Type, &his, &PyTuple_Type,
                                   &shapes, &result, &field, &bits, &sign))
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
    {"name", T_OBJECT, offsetof(Plan, name), READONLY, "the C function's name"}, {NULL}};

PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Plan",
    .tp_basicsize = sizeof(Plan),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "How one C function's arguments are checked and its result lifted.",
    .tp_new = Plan_new,
    .tp_dealloc = (destructor)Plan_dealloc,
    .tp_members = Plan_members,
};
