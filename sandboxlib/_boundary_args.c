/* sandboxlib._boundary: arguments on the fast path: ints in range, pointers of this
   sandbox, bytes and str copied into its scratch area. */
#include "_boundary_internal.h"

/* An int in [lo, hi] of `q` into `out`; 0 if it is not one. */
int int_in_range(const Param* q, PyObject* x, sbx_val* out) {
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

PyObject* add_pointee(PyObject* self, PyObject* args) {
  PyTypeObject* type;
  const char *owner, *address, *shape;
  int nonzero;
  if (!PyArg_ParseTuple(args,
                        "O!ssz"
                        "p",
                        &PyType_Type, &type, &owner, &address, &shape, &nonzero))
    return NULL;
  if (S.npointees == MAX_POINTEES) {
    PyErr_SetString(PyExc_ValueError, "too many pointee types");
    return NULL;
  }
  Pointee* e = &S.pointees[S.npointees];
  e->shape = -1;
  if (slot_offset(type, owner, &e->owner) || slot_offset(type, address, &e->address) ||
      (shape && slot_offset(type, shape, &e->shape)))
    return NULL;
  e->type = (PyTypeObject*)Py_NewRef(type);
  e->nonzero = nonzero;
  S.npointees++;
  Py_RETURN_NONE;
}

/* bytes, str (UTF-8) or bytearray + NUL into the scratch area, 8-aligned, its address
   into `out` (as Sandbox.temp_copy does); 0 if it does not fit or there is none yet. */
int copy_in(Gate* g, Region* memory, PyObject* x, sbx_val* out) {
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
int fast_arg(PyObject* sandbox, PyObject* memory, Gate* g, const Param* q, PyObject* x,
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
      if (Py_IS_TYPE(x, S.tainted_ptr_type)) {
        if (SLOT(x, S.off_memory) != memory)
          return 0;
        return int_in_range(q, SLOT(x, S.off_value), out);
      }
      if (PyLong_CheckExact(x))
        return int_in_range(q, x, out);
      for (int i = 0; sandbox && i < S.npointees; i++) {
        const Pointee* e = &S.pointees[i];
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
int store_converted(const Param* q, PyObject* v, sbx_val* out) {
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
    PyErr_Format(S.argument_error, "%R does not fit the C parameter it was converted for", v);
  return -1;
}
