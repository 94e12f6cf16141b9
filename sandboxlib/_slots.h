/* Reading and writing the __slots__ of Python classes from C: the offset of a slot
   from its member descriptor, found once, then a pointer at that offset. Shared by
   the compiled boundary (_boundary.c) and wrapped.expat's fast lane. */
#ifndef SANDBOXLIB_SLOTS_H
#define SANDBOXLIB_SLOTS_H

#include <Python.h>
#include <structmember.h>

#define SLOT(o, off) (*(PyObject**)((char*)(o) + (off)))

/* Where slot `name` of `type` is; -1 with TypeError if it has no such slot. */
static inline int slot_offset(PyTypeObject* type, const char* name, Py_ssize_t* out) {
  PyObject* d = PyDict_GetItemString(type->tp_dict, name);
  if (!d || !Py_IS_TYPE(d, &PyMemberDescr_Type)) {
    PyErr_Format(PyExc_TypeError, "%s has no slot %s", type->tp_name, name);
    return -1;
  }
  *out = ((PyMemberDescrObject*)d)->d_member->offset;
  return 0;
}

#endif
