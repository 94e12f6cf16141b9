/* sandboxlib._boundary: Heap and Block, the host's allocations in one sandbox.

   A Heap serves one sandbox's alloc() and out(): a block from the sandbox's own malloc
   (through its Caller, so every check of a call applies), or a small block freed
   before and kept for reuse (SPARE_SIZE bytes or less, SPARE_COUNT of each size; none
   handed out or kept once the sandbox is poisoned or closed). The span of every block
   handed out is checked against the memory, a cell's zeroed. The Block (an Allocation
   or a Cell, Python subclasses) is made here and linked into the heap's live blocks,
   so that closing the heap marks them all freed. What is refused goes to the
   sandbox's Python code, which raises the error naming it. The heap does not hold the
   sandbox (which holds it): each call is given it, and a block keeps its own. */
#include "_boundary_internal.h"

enum { SPARE_SIZE = 64, SPARE_COUNT = 16, RECENT = 8 };

typedef struct Heap Heap;

typedef struct Block {
  PyObject_HEAD
  PyObject* owner;   /* _sandbox */
  PyObject* address; /* an int: 0 once freed, or once the sandbox closed */
  PyObject* size;    /* an int */
  Heap* heap;        /* while live: the heap whose list it is in */
  struct Block *prev, *next;
  uint64_t at, nbytes;
} Block;

struct Heap {
  PyObject_HEAD
  Gate* gate;
  Region* memory;
  PyObject* functions[2]; /* malloc and free (Function) */
  PyObject* callers[2];   /* bound at their first use (they hold the sandbox) */
  struct {
    PyObject *ctype, *size, *origin; /* out()'s recent types, and how each is read */
    Lift lift;
  } recent[RECENT];
  int next_recent;
  uint64_t max; /* the largest alloc() that may succeed */
  Block* live;
  /* the blocks kept by size, made at the first kept (1 KiB a heap: a new sandbox's
     resident cost, 100,000 of them in a process, is without it) */
  struct {
    int n;
    uint64_t* at;
  }* spare;
};

/* A Cell: a block holding one C value, read in C (`value`). */
typedef struct {
  Block block;
  PyObject* ctype;
  PyObject* origin; /* of the tainted value read */
  Lift lift;
} CellBase;

static PyTypeObject *allocation_type, *cell_type;

PyObject* setup_blocks(PyObject* self, PyObject* args) {
  PyTypeObject *a, *c;
  if (!PyArg_ParseTuple(args, "O!O!", &PyType_Type, &a, &PyType_Type, &c))
    return NULL;
  if (!PyType_IsSubtype(a, &BlockType) || !PyType_IsSubtype(c, a) ||
      !PyType_IsSubtype(c, &CellBaseType)) {
    PyErr_SetString(PyExc_TypeError,
                    "setup_blocks(Allocation, Cell): a Block, and its subclass that is a CellBase");
    return NULL;
  }
  Py_XSETREF(allocation_type, (PyTypeObject*)Py_NewRef(a));
  Py_XSETREF(cell_type, (PyTypeObject*)Py_NewRef(c));
  Py_RETURN_NONE;
}

static int blocks_ready(void) {
  if (!cell_type)
    PyErr_SetString(PyExc_RuntimeError, "sandboxlib._boundary: setup_blocks() was not called");
  return cell_type != NULL;
}

/* sandbox.name(*args), which raises the error; NULL. */
static PyObject* refuse(PyObject* sandbox, const char* name, PyObject* const* args, size_t n) {
  PyObject* r = call_method(sandbox, name, args, n);
  if (r) {
    Py_DECREF(r);
    PyErr_Format(PyExc_SystemError, "%s() returned instead of raising", name);
  }
  return NULL;
}

static PyObject* caller(Heap* h, PyObject* sandbox, int i) {
  if (!h->callers[i])
    h->callers[i] = call_method(sandbox, "bind", &h->functions[i], 1);
  return h->callers[i];
}

/* Unlink a live block; the heap's reference is the caller's now. */
static Heap* unlink_block(Block* b) {
  Heap* h = b->heap;
  if (b->prev)
    b->prev->next = b->next;
  else
    h->live = b->next;
  if (b->next)
    b->next->prev = b->prev;
  b->prev = b->next = NULL;
  b->heap = NULL;
  return h;
}

/* A freed block: kept for reuse, or given to the sandbox's free; -1 if that failed. */
static int give_back(Heap* h, PyObject* sandbox, uint64_t at, uint64_t n) {
  if (h->gate->unusable)
    return 0;
  if (!h->spare && n <= SPARE_SIZE)
    h->spare = PyMem_Calloc(SPARE_SIZE + 1, sizeof *h->spare); /* (none: given back) */
  if (h->spare && n <= SPARE_SIZE) {
    if (!h->spare[n].at)
      h->spare[n].at = PyMem_Malloc(SPARE_COUNT * sizeof(uint64_t));
    if (h->spare[n].at && h->spare[n].n < SPARE_COUNT) {
      h->spare[n].at[h->spare[n].n++] = at;
      return 0;
    }
  }
  PyObject* free = caller(h, sandbox, 1);
  PyObject* address = free ? PyLong_FromUnsignedLongLong(at) : NULL;
  PyObject* r = address ? PyObject_Vectorcall(free, &address, 1, NULL) : NULL;
  Py_XDECREF(address);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

/* The address of a block of `n` bytes (zeroed if `zero`) whose span lies inside the
   memory; 0 with the error set. */
static uint64_t take(Heap* h, PyObject* sandbox, const char* where, uint64_t n, int zero) {
  if (h->gate->unusable) { /* raises ClosedError or PoisonedError */
    PyObject* r = call_method(sandbox, "_check_usable", NULL, 0);
    if (!r)
      return 0;
    Py_DECREF(r);
  }
  uint64_t at = 0;
  if (n <= SPARE_SIZE && h->spare && h->spare[n].n) {
    at = h->spare[n].at[--h->spare[n].n];
  } else {
    PyObject* malloc = caller(h, sandbox, 0);
    PyObject* size = malloc ? PyLong_FromUnsignedLongLong(n ? n : 1) : NULL;
    PyObject* r = size ? PyObject_Vectorcall(malloc, &size, 1, NULL) : NULL;
    Py_XDECREF(size);
    if (!r)
      return 0;
    if (PyObject_TypeCheck(r, S.tainted_type) && PyLong_CheckExact(SLOT(r, S.off_value)))
      at = PyLong_AsUnsignedLongLong(SLOT(r, S.off_value));
    Py_DECREF(r);
    if (PyErr_Occurred())
      return 0;
  }
  uint8_t* p = at ? region_at(h->memory, at, n ? n : 1) : NULL;
  if (!p) {
    PyObject* args[3] = {PyUnicode_FromString(where), PyLong_FromUnsignedLongLong(n),
                         PyLong_FromUnsignedLongLong(at)};
    if (args[0] && args[1] && args[2])
      refuse(sandbox, "_refuse_block", args, 3);
    for (int i = 0; i < 3; i++)
      Py_XDECREF(args[i]);
    return 0;
  }
  if (zero)
    memset(p, 0, n);
  return at;
}

/* A new live block of `type`: `n` bytes from take(); NULL with the error set. */
static Block* new_block(Heap* h, PyObject* sandbox, PyTypeObject* type, const char* where,
                        uint64_t n, PyObject* size, int zero) {
  Block* b = (Block*)type->tp_alloc(type, 0);
  uint64_t at = b ? take(h, sandbox, where, n, zero) : 0;
  PyObject* address = at ? PyLong_FromUnsignedLongLong(at) : NULL;
  if (!address) {
    if (at)
      give_back(h, sandbox, at, n);
    Py_XDECREF(b);
    return NULL;
  }
  b->owner = Py_NewRef(sandbox);
  b->address = address;
  b->size = Py_NewRef(size);
  b->at = at;
  b->nbytes = n;
  b->heap = (Heap*)Py_NewRef(h);
  b->next = h->live;
  if (h->live)
    h->live->prev = b;
  h->live = b;
  return b;
}

static PyObject* Heap_alloc(Heap* h, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "alloc(sandbox, size)");
    return NULL;
  }
  if (!blocks_ready())
    return NULL;
  PyObject *sandbox = args[0], *size = args[1];
  /* not an int, or one below 0 or above 64 bits: refused as a size beyond the limit */
  uint64_t n = PyLong_CheckExact(size) ? PyLong_AsUnsignedLongLong(size) : (uint64_t)-1;
  int invalid = n == (uint64_t)-1 && (!PyLong_CheckExact(size) || PyErr_Occurred());
  PyErr_Clear();
  if (invalid || n > h->max)
    return refuse(sandbox, "_refuse_size", &size, 1);
  return (PyObject*)new_block(h, sandbox, allocation_type, "alloc()", n, size, 0);
}

/* How a cell of `ctype` is made and read: recent types by identity, else what the
   sandbox's _cell_kind() says, (size, origin, lift kind, raw field, bits, signed). */
static int cell_kind(Heap* h, PyObject* sandbox, PyObject* ctype) {
  for (int i = 0; i < RECENT; i++)
    if (h->recent[i].ctype == ctype)
      return i;
  PyObject *kind = call_method(sandbox, "_cell_kind", &ctype, 1), *size, *origin;
  int lkind, field, bits, sign, i = h->next_recent;
  Lift lift;
  int ok = kind &&
           PyArg_ParseTuple(kind, "O!UCCip", &PyLong_Type, &size, &origin, &lkind, &field, &bits,
                            &sign) &&
           !lift_parse(&lift, lkind, field, bits, sign);
  if (ok) {
    h->next_recent = (i + 1) % RECENT;
    Py_XSETREF(h->recent[i].ctype, Py_NewRef(ctype));
    Py_XSETREF(h->recent[i].size, Py_NewRef(size));
    Py_XSETREF(h->recent[i].origin, Py_NewRef(origin));
    h->recent[i].lift = lift;
  }
  Py_XDECREF(kind);
  return ok ? i : -1;
}

static PyObject* Block_free(Block* b, PyObject* unused);

static PyObject* Heap_out(Heap* h, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 2 || nargs > 3) {
    PyErr_SetString(PyExc_TypeError, "out(sandbox, ctype, initial=None)");
    return NULL;
  }
  PyObject *sandbox = args[0], *ctype = args[1];
  int k = blocks_ready() ? cell_kind(h, sandbox, ctype) : -1;
  if (k < 0)
    return NULL;
  PyObject* size = h->recent[k].size;
  uint64_t n = PyLong_AsUnsignedLongLong(size);
  CellBase* cell =
      PyErr_Occurred() ? NULL : (CellBase*)new_block(h, sandbox, cell_type, "out()", n, size, 1);
  if (!cell)
    return NULL;
  cell->ctype = Py_NewRef(ctype);
  cell->origin = Py_NewRef(h->recent[k].origin);
  cell->lift = h->recent[k].lift;
  if (nargs == 3 && args[2] != Py_None &&
      PyObject_SetAttrString((PyObject*)cell, "value", args[2])) {
    PyObject* exc = take_exception(); /* the value refused: the cell goes back */
    Py_XDECREF(Block_free(&cell->block, NULL));
    Py_DECREF(cell);
    restore_exception(exc);
    return NULL;
  }
  return (PyObject*)cell;
}

/* Every live block marked freed, the spare blocks forgotten, the callers dropped (the
   sandbox closed, which freed its memory). */
static PyObject* Heap_close(Heap* h, PyObject* unused) {
  while (h->live) {
    Block* b = h->live;
    Heap* mine = unlink_block(b);
    PyObject* zero = PyLong_FromLong(0);
    if (zero)
      Py_SETREF(b->address, zero);
    Py_DECREF(mine);
  }
  for (int i = 0; h->spare && i <= SPARE_SIZE; i++)
    h->spare[i].n = 0;
  Py_CLEAR(h->callers[0]);
  Py_CLEAR(h->callers[1]);
  Py_RETURN_NONE;
}

static PyObject* Heap_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  Gate* gate;
  Region* memory;
  PyObject *malloc, *free;
  unsigned long long max;
  if (!PyArg_ParseTuple(args, "O!O!OOK", &GateType, &gate, &RegionType, &memory, &malloc, &free,
                        &max) ||
      !boundary_ready(0))
    return NULL;
  Heap* h = (Heap*)type->tp_alloc(type, 0);
  if (!h)
    return NULL;
  h->gate = (Gate*)Py_NewRef(gate);
  h->memory = (Region*)Py_NewRef(memory);
  h->functions[0] = Py_NewRef(malloc);
  h->functions[1] = Py_NewRef(free);
  h->max = max;
  return (PyObject*)h;
}

static int Heap_traverse(Heap* h, visitproc visit, void* arg) {
  Py_VISIT(h->gate);
  Py_VISIT(h->memory);
  for (int i = 0; i < 2; i++) {
    Py_VISIT(h->functions[i]);
    Py_VISIT(h->callers[i]);
  }
  for (int i = 0; i < RECENT; i++) {
    Py_VISIT(h->recent[i].ctype);
    Py_VISIT(h->recent[i].size);
    Py_VISIT(h->recent[i].origin);
  }
  return 0;
}

static int Heap_clear(Heap* h) {
  Py_CLEAR(h->gate);
  Py_CLEAR(h->memory);
  for (int i = 0; i < 2; i++) {
    Py_CLEAR(h->functions[i]);
    Py_CLEAR(h->callers[i]);
  }
  for (int i = 0; i < RECENT; i++) {
    Py_CLEAR(h->recent[i].ctype);
    Py_CLEAR(h->recent[i].size);
    Py_CLEAR(h->recent[i].origin);
  }
  return 0;
}

static void Heap_dealloc(Heap* h) {
  PyObject_GC_UnTrack(h);
  Heap_clear(h);
  for (int i = 0; h->spare && i <= SPARE_SIZE; i++)
    PyMem_Free(h->spare[i].at);
  PyMem_Free(h->spare);
  Py_TYPE(h)->tp_free((PyObject*)h);
}

static PyMethodDef Heap_methods[] = {
    {"alloc", (PyCFunction)(void (*)(void))Heap_alloc, METH_FASTCALL,
     "alloc(sandbox, size): an Allocation of size bytes."},
    {"out", (PyCFunction)(void (*)(void))Heap_out, METH_FASTCALL,
     "out(sandbox, ctype, initial=None): a zeroed Cell of ctype (initial stored first)."},
    {"close", (PyCFunction)Heap_close, METH_NOARGS,
     "The sandbox closed: every live block is marked freed."},
    {NULL}};

PyTypeObject HeapType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Heap",
    .tp_basicsize = sizeof(Heap),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc =
        "The host's allocations in one sandbox: Heap(gate, memory, malloc, free, max); the "
        "sandbox is passed to each call (its blocks hold it, the heap does not).",
    .tp_new = Heap_new,
    .tp_dealloc = (destructor)Heap_dealloc,
    .tp_traverse = (traverseproc)Heap_traverse,
    .tp_clear = (inquiry)Heap_clear,
    .tp_methods = Heap_methods,
};

/* -- Block: the base of Allocation ------------------------------------------------- */

static PyObject* Block_free(Block* b, PyObject* unused) {
  if (!b->heap)
    Py_RETURN_NONE;
  PyObject* zero = PyLong_FromLong(0);
  if (!zero)
    return NULL;
  Heap* h = unlink_block(b);
  Py_SETREF(b->address, zero);
  int failed = give_back(h, b->owner, b->at, b->nbytes);
  Py_DECREF(h);
  if (failed)
    return NULL;
  Py_RETURN_NONE;
}

static int Block_traverse(Block* b, visitproc visit, void* arg) {
  Py_VISIT(b->owner);
  Py_VISIT(b->address);
  Py_VISIT(b->size);
  Py_VISIT(b->heap);
  return 0;
}

static int Block_clear(Block* b) {
  if (b->heap)
    Py_DECREF(unlink_block(b));
  Py_CLEAR(b->owner);
  Py_CLEAR(b->address);
  Py_CLEAR(b->size);
  return 0;
}

static void Block_dealloc(Block* b) {
  PyObject_GC_UnTrack(b);
  Block_clear(b);
  Py_TYPE(b)->tp_free((PyObject*)b);
}

static PyMemberDef Block_members[] = {
    {"_sandbox", T_OBJECT, offsetof(Block, owner), READONLY, "the sandbox it is in"},
    {"address", T_OBJECT, offsetof(Block, address), READONLY,
     "where it is; 0 once freed or once the sandbox closed"},
    {"size", T_OBJECT, offsetof(Block, size), READONLY, "its size in bytes"},
    {NULL}};

static PyMethodDef Block_methods[] = {
    {"free", (PyCFunction)Block_free, METH_NOARGS,
     "Give the block back (kept for reuse if small); nothing if already freed."},
    {NULL}};

PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.Block",
    .tp_basicsize = sizeof(Block),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A block of sandbox memory the host allocated (made by a Heap only).",
    .tp_dealloc = (destructor)Block_dealloc,
    .tp_traverse = (traverseproc)Block_traverse,
    .tp_clear = (inquiry)Block_clear,
    .tp_members = Block_members,
    .tp_methods = Block_methods,
};

/* -- CellBase: the base of Cell ---------------------------------------------------- */

static PyObject* CellBase_get_value(CellBase* c, void* unused) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ /* sandbox memory is little-endian */
  Block* b = &c->block;
  uint8_t* at =
      b->heap && b->nbytes <= sizeof(sbx_val) ? region_at(b->heap->memory, b->at, b->nbytes) : NULL;
  if (at) {
    sbx_val v = {0};
    memcpy(&v, at, (size_t)b->nbytes);
    return lift(&c->lift, v, c->origin, (PyObject*)b->heap->memory);
  }
#endif
  return call_method((PyObject*)c, "_value_slow", NULL, 0); /* freed, closed, ... */
}

static int CellBase_set_value(CellBase* c, PyObject* value, void* unused) {
  if (!value) {
    PyErr_SetString(PyExc_AttributeError, "a cell's value cannot be deleted");
    return -1;
  }
  PyObject* r = call_method((PyObject*)c, "_set_value", &value, 1);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

static int CellBase_traverse(CellBase* c, visitproc visit, void* arg) {
  Py_VISIT(c->ctype);
  Py_VISIT(c->origin);
  return Block_traverse(&c->block, visit, arg);
}

static int CellBase_clear(CellBase* c) {
  Py_CLEAR(c->ctype);
  Py_CLEAR(c->origin);
  return Block_clear(&c->block);
}

static void CellBase_dealloc(CellBase* c) {
  PyObject_GC_UnTrack(c);
  CellBase_clear(c);
  Py_TYPE(c)->tp_free((PyObject*)c);
}

static PyMemberDef CellBase_members[] = {
    {"ctype", T_OBJECT, offsetof(CellBase, ctype), READONLY, "the C type of its value"}, {NULL}};

static PyGetSetDef CellBase_getset[] = {
    {"value", (getter)CellBase_get_value, (setter)CellBase_set_value,
     "the value stored now (tainted); setting it stores one (range-checked)", NULL},
    {NULL}};

PyTypeObject CellBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sandboxlib._boundary.CellBase",
    .tp_basicsize = sizeof(CellBase),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A block holding one C value (made by a Heap only).",
    .tp_base = &BlockType,
    .tp_dealloc = (destructor)CellBase_dealloc,
    .tp_traverse = (traverseproc)CellBase_traverse,
    .tp_clear = (inquiry)CellBase_clear,
    .tp_members = CellBase_members,
    .tp_getset = CellBase_getset,
};
