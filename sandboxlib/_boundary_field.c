/* sandboxlib._boundary: Field, a struct field read and written in C. */
#include "_boundary_internal.h"

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

PyObject* setup_struct(PyObject* self, PyObject* arg) {
  if (!PyType_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "setup_struct(Struct)");
    return NULL;
  }
  PyTypeObject* t = (PyTypeObject*)arg;
  if (slot_offset(t, "_sandbox", &S.off_view_sandbox) ||
      slot_offset(t, "_address", &S.off_view_address) ||
      slot_offset(t, "_memory", &S.off_view_memory) || slot_offset(t, "_model", &S.off_view_model))
    return NULL;
  Py_XSETREF(S.struct_type, (PyTypeObject*)Py_NewRef(t));
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
         PyType_IsSubtype((PyTypeObject*)shape, S.struct_type) &&
         !lift_parse(&m.lift, 'v', 'i', 0, 0);
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
  if (!S.struct_type || !PyObject_TypeCheck(view, S.struct_type))
    return NULL;
  PyObject* address = SLOT(view, S.off_view_address);
  PyObject* memory = SLOT(view, S.off_view_memory);
  PyObject* model = SLOT(view, S.off_view_model);
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
  PyObject* address = offset ? PyNumber_Add(SLOT(view, S.off_view_address), offset) : NULL;
  Py_XDECREF(offset);
  PyObject* inner = address ? type->tp_alloc(type, 0) : NULL;
  if (!inner) {
    Py_XDECREF(address);
    return NULL;
  }
  SLOT(inner, S.off_view_address) = address;
  Py_ssize_t offs[3] = {S.off_view_sandbox, S.off_view_memory, S.off_view_model};
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
    return lift(&fm->lift, v, fm->origin, SLOT(view, S.off_view_memory));
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
      fast_arg(SLOT(view, S.off_view_sandbox), SLOT(view, S.off_view_memory), NULL, &fm->param,
               value, &v)) {
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
  if (!PyArg_ParseTuple(args, "UO", &name, &type) || !boundary_ready(1))
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

PyTypeObject FieldType = {
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
