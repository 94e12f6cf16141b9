/* sandboxlib._boundary: its state, set up from Python; exceptions; calls into Python;
   tainted results made without running Python code. */
#include "_boundary_internal.h"

PyObject* setup(PyObject* self, PyObject* args) {
  PyTypeObject *t, *p;
  PyObject* err;
  if (!PyArg_ParseTuple(args, "O!O!O", &PyType_Type, &t, &PyType_Type, &p, &err))
    return NULL;
  if (!PyType_IsSubtype(p, t)) {
    PyErr_SetString(PyExc_TypeError, "TaintedPtr must subclass Tainted");
    return NULL;
  }
  if (slot_offset(t, "_value", &S.off_value) || slot_offset(t, "_origin", &S.off_origin) ||
      slot_offset(p, "_memory", &S.off_memory))
    return NULL;
  Py_INCREF(t);
  Py_INCREF(p);
  Py_INCREF(err);
  Py_XSETREF(S.tainted_type, t);
  Py_XSETREF(S.tainted_ptr_type, p);
  Py_XSETREF(S.argument_error, err);
  S.ready = 1;
  Py_RETURN_NONE;
}

PyObject* take_exception(void) {
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

void restore_exception(PyObject* exc) {
  if (exc)
    PyErr_Restore(Py_NewRef((PyObject*)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
}

PyObject* tainted(PyTypeObject* type, PyObject* value, PyObject* origin, PyObject* memory) {
  if (!value)
    return NULL;
  PyObject* o = type->tp_alloc(type, 0);
  if (!o) {
    Py_DECREF(value);
    return NULL;
  }
  SLOT(o, S.off_value) = value;
  Py_INCREF(origin);
  SLOT(o, S.off_origin) = origin;
  if (memory) {
    Py_INCREF(memory);
    SLOT(o, S.off_memory) = memory;
  }
  return o;
}

PyObject* call_method(PyObject* o, const char* name, PyObject* const* args, size_t n) {
  PyObject* stack[5] = {o};
  for (size_t i = 0; i < n; i++)
    stack[i + 1] = args[i];
  PyObject* m = PyUnicode_InternFromString(name);
  if (!m)
    return NULL;
  PyObject* r = PyObject_VectorcallMethod(m, stack, (n + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
  Py_DECREF(m);
  return r;
}

PyObject* lift(const Lift* l, sbx_val r, PyObject* origin, PyObject* memory) {
  switch (l->kind) {
    case 'v':
      Py_RETURN_NONE;
    case 'f':
      return tainted(S.tainted_type, PyFloat_FromDouble(r.f32), origin, NULL);
    case 'd':
      return tainted(S.tainted_type, PyFloat_FromDouble(r.f64), origin, NULL);
    case 'b':
      return tainted(S.tainted_type, PyBool_FromLong((r.u32 & 0xFF) != 0), origin, NULL);
  }
  uint64_t u;
  int64_t s;
  switch (l->field) {
    case 'i':
      s = r.i32;
      u = (uint64_t)s;
      break;
    case 'u':
      u = r.u32;
      s = (int64_t)u;
      break;
    case 'I':
      s = r.i64;
      u = (uint64_t)s;
      break;
    default:
      u = r.u64;
      s = (int64_t)u;
      break;
  }
  if (l->kind == 'p')
    return tainted(S.tainted_ptr_type, PyLong_FromUnsignedLongLong(u), origin, memory);
  if (l->bits) { /* what a C caller sees of a narrower value: the low bits, re-signed */
    u &= (UINT64_C(1) << l->bits) - 1;
    if (l->sign && (u >> (l->bits - 1)))
      return tainted(S.tainted_type, PyLong_FromLongLong((int64_t)u - (INT64_C(1) << l->bits)),
                     origin, NULL);
    return tainted(S.tainted_type, PyLong_FromUnsignedLongLong(u), origin, NULL);
  }
  PyObject* v = (l->field == 'i' || l->field == 'I') ? PyLong_FromLongLong(s)
                                                     : PyLong_FromUnsignedLongLong(u);
  return tainted(S.tainted_type, v, origin, NULL);
}
