/* sandboxlib._boundary's internals, shared by its files (one per concept): the types,
   the module's state, and the functions more than one file uses. Backends see only
   _boundary.h. */
#ifndef SBX_BOUNDARY_INTERNAL_H
#define SBX_BOUNDARY_INTERNAL_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

#include "_boundary.h"
#include "_slots.h"

enum { REGION_CLOSED = 0, REGION_UNIFORM = 1, REGION_HOST = 2 };
#define MAX_PARAMS SBX_MAX_PARAMS

/* -- the module's state: set once by setup(), add_pointee() and setup_struct() ----- */
/* Host objects passed as pointers (an allocation, a callback, a struct view): where
   their owner and address are kept, what they must hold to pass as they are. */
typedef struct {
  PyTypeObject* type;
  Py_ssize_t owner, address, shape; /* slot offsets; shape -1: not a function */
  int nonzero;                      /* address 0 means freed or unregistered */
} Pointee;
#define MAX_POINTEES 4

typedef struct {
  int ready; /* setup() was called: results can be made */
  PyTypeObject* tainted_type;
  PyTypeObject* tainted_ptr_type;
  Py_ssize_t off_value, off_origin, off_memory; /* their slots */
  PyObject* argument_error;
  Pointee pointees[MAX_POINTEES];
  int npointees;
  PyTypeObject* struct_type; /* struct views, and their slots Field reads */
  Py_ssize_t off_view_sandbox, off_view_address, off_view_memory, off_view_model;
} boundary_state;

extern boundary_state S;

/* 1 if setup() (and, for `structs`, setup_struct()) was called; else 0 with an error
   set: nothing is made before the types it makes results of are known. */
int boundary_ready(int structs);
PyObject* setup(PyObject* self, PyObject* args);
PyObject* add_pointee(PyObject* self, PyObject* args);
PyObject* setup_struct(PyObject* self, PyObject* arg);

/* -- taint.c: exceptions, calls into Python, tainted results ------------------------ */
/* The raised exception, taken (3.11 has no PyErr_GetRaisedException); NULL if none. */
PyObject* take_exception(void);
/* Raise `exc` again (stolen); nothing if NULL. */
void restore_exception(PyObject* exc);
/* Tainted(value, origin) without running Python code; steals `value`. */
PyObject* tainted(PyTypeObject* type, PyObject* value, PyObject* origin, PyObject* memory);
/* o.name(*args): the Python methods called so are declared in _boundary.pyi. */
PyObject* call_method(PyObject* o, const char* name, PyObject* const* args, size_t n);

/* -- region.c ----------------------------------------------------------------------- */
typedef struct {
  PyObject_HEAD
  int form;
  sbx_region_fn fn;
  void* ctx;
  void (*release)(void* ctx); /* given back when detached: what kept the memory there */
  PyObject* keep;
} Region;
extern PyTypeObject RegionType;

/* The memory's base and size now; 0 if it is closed. */
int region_get(Region* r, uint8_t** base, uint64_t* size);
/* Where [a, a + length) is, if it lies inside the memory (and is not a non-empty span
   at NULL); NULL otherwise. */
uint8_t* region_at(Region* r, uint64_t a, uint64_t length);

/* Address `a` of a memory based at `base` (NULL for the host's own memory). */
static inline uint8_t* at_address(uint8_t* base, uint64_t a) {
  return (uint8_t*)((uintptr_t)base + (uintptr_t)a);
}

/* -- gate.c ------------------------------------------------------------------------- */
typedef struct {
  PyObject_HEAD
  unsigned long owner;        /* the thread whose calls are on the sandbox's stack */
  long depth;                 /* how many */
  long callback_depth;        /* callbacks on the stack */
  char unusable;              /* poisoned or closed: every call asks the sandbox why */
  char borrowed;              /* views to release before the next call */
  PyObject* pending;          /* what a callback raised, raised again by the call it ran in */
  unsigned long long scratch; /* where bytes and str arguments are copied (0: not yet) */
  long scratch_size;
  long scratch_top; /* in use by the calls on the stack */
} Gate;
extern PyTypeObject GateType;

int gate_enter(Gate* g);
/* Keep the raised exception for the call the callback runs in. */
void gate_hold(Gate* g);

/* -- plan.c ------------------------------------------------------------------------- */
typedef struct {
  char kind; /* i: signed int, u: unsigned int, f: float, d: double, p: pointer,
                q: function pointer (of machine type `shape`) */
  int64_t lo;
  uint64_t hi;
  PyObject* shape; /* q: borrowed from its Plan */
} Param;

/* How a raw value becomes a tainted one (a result, or a callback's argument). */
typedef struct {
  char kind;  /* v(oid) i(nt) b(ool) f(loat) d(ouble) p(ointer) */
  char field; /* the raw field of an int or pointer: i(32) u(32) I(64) U(64) */
  int bits;   /* of an int narrower than 32 bits (0: as wide as its field) */
  int sign;
} Lift;

typedef struct {
  PyObject_HEAD
  PyObject* function; /* passed back to the sandbox's slow paths */
  PyObject* name;     /* the C name, for errors */
  PyObject* origin;   /* of the tainted result */
  PyObject* shapes;   /* of function-pointer parameters (None for the others) */
  Lift result;
  int n;
  Param params[MAX_PARAMS];
} Plan;
extern PyTypeObject PlanType;

int lift_parse(Lift* l, int kind, int field, int bits, int sign);
/* A raw value as a tainted one (see Lift; in taint.c). */
PyObject* lift(const Lift* l, sbx_val r, PyObject* origin, PyObject* memory);

/* -- args.c: arguments (and callback results) checked on the fast path --------------- */
/* An int in [lo, hi] of `q` into `out`; 0 if it is not one. */
int int_in_range(const Param* q, PyObject* x, sbx_val* out);
/* The fast path of one argument; 0 if it must go to the sandbox's converter. */
int fast_arg(PyObject* sandbox, PyObject* memory, Gate* g, const Param* q, PyObject* x,
             sbx_val* out);
/* What the sandbox's converter made of an argument: a machine value. */
int store_converted(const Param* q, PyObject* v, sbx_val* out);

/* -- heap.c: the host's allocations ----------------------------------------------- */
extern PyTypeObject HeapType;
extern PyTypeObject BlockType;
extern PyTypeObject CellBaseType;
PyObject* setup_blocks(PyObject* self, PyObject* args);

/* -- caller.c, callback.c, field.c -------------------------------------------------- */
extern PyTypeObject CallerType;
extern PyTypeObject CallbackType;
extern PyTypeObject FieldType;
/* -- clock.c: the clock of deadlines, the watch on SIGINT --------------------------- */
PyObject* start_clock(PyObject* self, PyObject* unused);
PyObject* watch_signals(PyObject* self, PyObject* main_thread);
PyObject* add_waker(PyObject* self, PyObject* args);
PyObject* check_signals(PyObject* self, PyObject* unused);
/* CLOCK, CLOCK_TICKS and CLOCK_TICK_SECONDS into the module; -1 on error. */
int add_clock(PyObject* m);

/* The callback dispatcher backends call (sbx_dispatch_fn). */
int callback_dispatch(void* target, sbx_val* v);

#endif
