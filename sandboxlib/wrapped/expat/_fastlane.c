/* The fast lane of wrapped.expat's event dispatch (_events.Events._dispatch): runs of
   the common events -- character data, start and end element -- straight to the
   handlers set now, without text buffering. It stops at the first event it does not
   take as it is (another kind, a record out of shape, buffer_text on), and the Python
   dispatch, which checks everything and raises, goes on from there: it is the
   reference, this only does what it would do, faster. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "../../_slots.h"

static Py_ssize_t off_handlers, off_buffer, off_ordered, off_at;
static PyObject *key_chars, *key_start, *key_end;
static long ev_chars, ev_start, ev_end, fields;


/* setup(Events, EV_CHARS, EV_START, EV_END, FIELDS) */
static PyObject* setup(PyObject* self, PyObject* args) {
  PyTypeObject* events;
  if (!PyArg_ParseTuple(args, "O!llll", &PyType_Type, &events, &ev_chars, &ev_start, &ev_end,
                        &fields) ||
      slot_offset(events, "handlers", &off_handlers) ||
      slot_offset(events, "buffer", &off_buffer) ||
      slot_offset(events, "ordered_attributes", &off_ordered) || slot_offset(events, "at", &off_at))
    return NULL;
  Py_RETURN_NONE;
}

/* The handler `key` set now (NULL: none, or the handlers are not a dict). */
static PyObject* handler(PyObject* events, PyObject* key) {
  PyObject* handlers = SLOT(events, off_handlers);
  if (!handlers || !PyDict_CheckExact(handlers))
    return NULL;
  PyObject* h = PyDict_GetItemWithError(handlers, key);
  return h == Py_None ? NULL : h;
}

/* run(events, kinds, counts, strs, i, j) -> (i, j): dispatch events i, i+1, ... (their
   strings from strs[j]) until one the fast lane does not take, or the end. */
static PyObject* run(PyObject* self, PyObject* const* args, Py_ssize_t n) {
  if (n != 6 || !PyList_CheckExact(args[1]) || !PyList_CheckExact(args[2]) ||
      !PyList_CheckExact(args[3])) {
    PyErr_SetString(PyExc_TypeError, "run(events, kinds, counts, strs, i, j)");
    return NULL;
  }
  PyObject *events = args[0], *kinds = args[1], *counts = args[2], *strs = args[3];
  Py_ssize_t i = PyLong_AsSsize_t(args[4]), j = PyLong_AsSsize_t(args[5]);
  if (PyErr_Occurred())
    return NULL;
  Py_ssize_t total = PyList_GET_SIZE(kinds), nstrs = PyList_GET_SIZE(strs);
  if (PyList_GET_SIZE(counts) != total)
    goto stop;
  for (; i < total; i++) {
    PyObject *kind_obj = PyList_GET_ITEM(kinds, i), *k_obj = PyList_GET_ITEM(counts, i);
    if (SLOT(events, off_buffer) != Py_None || !PyLong_CheckExact(kind_obj) ||
        !PyLong_CheckExact(k_obj))
      goto stop;
    long kind = PyLong_AsLong(kind_obj), k = PyLong_AsLong(k_obj);
    if (PyErr_Occurred() || k < 1 || k > nstrs - j)
      goto stop;
    PyObject* at = PyLong_FromSsize_t(i * fields);
    if (!at)
      return NULL;
    Py_XSETREF(SLOT(events, off_at), at); /* where the event's record is (positions) */
    PyObject* r = NULL;
    if (kind == ev_chars && k == 1) {
      PyObject* h = handler(events, key_chars);
      if (!h && PyErr_Occurred())
        return NULL;
      r = h ? PyObject_CallOneArg(h, PyList_GET_ITEM(strs, j)) : Py_NewRef(Py_None);
    } else if (kind == ev_end && k == 1) {
      PyObject* h = handler(events, key_end);
      if (!h && PyErr_Occurred())
        return NULL;
      r = h ? PyObject_CallOneArg(h, PyList_GET_ITEM(strs, j)) : Py_NewRef(Py_None);
    } else if (kind == ev_start && (k & 1)) {
      PyObject* h = handler(events, key_start);
      if (!h && PyErr_Occurred())
        return NULL;
      if (h) {
        PyObject* attrs;
        if (SLOT(events, off_ordered) == Py_True) {
          attrs = PyList_GetSlice(strs, j + 1, j + k);
        } else {
          attrs = PyDict_New();
          for (Py_ssize_t a = j + 1; attrs && a + 1 < j + k; a += 2)
            if (PyDict_SetItem(attrs, PyList_GET_ITEM(strs, a), PyList_GET_ITEM(strs, a + 1)))
              Py_CLEAR(attrs);
        }
        if (!attrs)
          return NULL;
        PyObject* call[2] = {PyList_GET_ITEM(strs, j), attrs};
        r = PyObject_Vectorcall(h, call, 2, NULL);
        Py_DECREF(attrs);
      } else {
        r = Py_NewRef(Py_None);
      }
    } else {
      goto stop;
    }
    if (!r)
      return NULL;
    Py_DECREF(r);
    j += k;
  }
stop:
  if (PyErr_Occurred())
    return NULL;
  return Py_BuildValue("nn", i, j);
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS, "setup(Events, EV_CHARS, EV_START, EV_END, FIELDS)"},
    {"run", (PyCFunction)(void (*)(void))run, METH_FASTCALL,
     "run(events, kinds, counts, strs, i, j) -> (i, j): the common events from event i."},
    {NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "sandboxlib.wrapped.expat._fastlane",
                                    "The fast lane of wrapped.expat's event dispatch.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__fastlane(void) {
  key_chars = PyUnicode_InternFromString("CharacterDataHandler");
  key_start = PyUnicode_InternFromString("StartElementHandler");
  key_end = PyUnicode_InternFromString("EndElementHandler");
  if (!key_chars || !key_start || !key_end)
    return NULL;
  return PyModule_Create(&module);
}
