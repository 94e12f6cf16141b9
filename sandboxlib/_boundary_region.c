/* sandboxlib._boundary: Region, bounds-checked access to one sandbox's memory. */
#include "_boundary_internal.h"

/* -- Region: bounds-checked access to one sandbox's memory ---------------------------
   The base type of backends/memory.py's Memory: reads, writes and C strings that
   are in bounds are done here; anything else (out of bounds, NULL, not an int, a
   closed sandbox) goes to the Memory's _*_slow method, which raises the error. */

/* The memory's base and size now; 0 if it is closed. */
int region_get(Region* r, uint8_t** base, uint64_t* size) {
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

/* Where [a, a + length) is, if it lies inside the memory (and is not a non-empty
   span at NULL); NULL otherwise. */
uint8_t* region_at(Region* r, uint64_t a, uint64_t length) {
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

PyTypeObject RegionType = {
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
