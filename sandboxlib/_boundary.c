/* sandboxlib._boundary: the compiled boundary, checked calls into sandboxes. One file
   per concept around _boundary_internal.h: taint (state, results), region (memory),
   gate (a sandbox's call state), plan and args (what an argument may be), caller,
   callback, field, heap (the host's allocations), clock (of deadlines). This file is the module:
   its functions, types and constants. */
#include "_boundary_internal.h"

boundary_state S;

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(Tainted, TaintedPtr, ArgumentError): the types results and errors are made of."},
    {"add_pointee", add_pointee, METH_VARARGS,
     "add_pointee(type, owner slot, address slot, shape slot or None, nonzero): instances "
     "pass as pointers as they are when their owner is the sandbox called."},
    {"setup_struct", setup_struct, METH_O,
     "setup_struct(Struct): the view type whose _sandbox, _address, _memory and _model "
     "slots Field reads."},
    {"setup_blocks", setup_blocks, METH_VARARGS,
     "setup_blocks(Allocation, Cell): what a Heap makes."},
    {"start_clock", start_clock, METH_NOARGS,
     "Start (once per process) the thread that advances CLOCK_TICKS."},
    {"watch_signals", watch_signals, METH_O,
     "watch_signals(main thread ident): SIGINT stops the main thread's running sandboxed "
     "call (our handler in front of the one installed now, if any)."},
    {"add_waker", add_waker, METH_VARARGS,
     "add_waker(function, argument, keep): function(argument) is called (as C) every tick "
     "and on a watched signal, for good (`keep`, which keeps the argument valid, is kept)."},
    {"check_signals", check_signals, METH_NOARGS,
     "Run Python's handlers of the signals received (PyErr_CheckSignals)."},
    {NULL}};

int boundary_ready(int structs) {
  if (S.ready && (!structs || S.struct_type))
    return 1;
  PyErr_SetString(PyExc_RuntimeError, structs
                                          ? "sandboxlib._boundary: setup_struct() was not called"
                                          : "sandboxlib._boundary: setup() was not called");
  return 0;
}

static int exec_module(PyObject* m) {
  PyTypeObject* types[] = {&RegionType, &GateType, &PlanType,  &CallerType,  &CallbackType,
                           &FieldType,  &HeapType, &BlockType, &CellBaseType};
  const char* names[] = {"Region", "Gate", "Plan",  "Caller",  "Callback",
                         "Field",  "Heap", "Block", "CellBase"};
  for (int i = 0; i < 9; i++)
    if (PyType_Ready(types[i]) < 0 || PyModule_AddObjectRef(m, names[i], (PyObject*)types[i]) < 0)
      return -1;
  PyObject* dispatch = PyLong_FromVoidPtr((void*)callback_dispatch);
  int bad = !dispatch || PyModule_AddIntConstant(m, "MAX_PARAMS", MAX_PARAMS) ||
            PyModule_AddIntConstant(m, "REGION_CLOSED", REGION_CLOSED) ||
            PyModule_AddIntConstant(m, "REGION_UNIFORM", REGION_UNIFORM) ||
            PyModule_AddIntConstant(m, "REGION_HOST", REGION_HOST) ||
            PyModule_AddObjectRef(m, "CALLBACK_DISPATCH", dispatch);
  Py_XDECREF(dispatch);
  return bad || add_clock(m) ? -1 : 0;
}

static PyModuleDef_Slot slots[] = {{Py_mod_exec, exec_module}, {0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT,
                                    "sandboxlib._boundary",
                                    "The compiled boundary: checked calls into sandboxes.",
                                    0,
                                    methods,
                                    slots};

PyMODINIT_FUNC PyInit__boundary(void) {
  return PyModuleDef_Init(&module);
}
