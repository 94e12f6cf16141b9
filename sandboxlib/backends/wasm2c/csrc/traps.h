/* sandboxlib: the wasm2c backend's trap codes, beside wasm-rt's (wasm_rt_trap_t values
   are small). Python reads them from here (backends/wasm2c/_csrc.py, TRAPS): each on
   a line of its own, as `SBX_TRAP_<name> = 0x<hex>,`. */
#ifndef SBX_TRAPS_H
#define SBX_TRAPS_H

enum {
  SBX_TRAP_STACK = 0x100,        /* the native stack budget of the call is exhausted */
  SBX_TRAP_TABLE = 0x101,        /* call_indirect past the end of the table */
  SBX_TRAP_NULL = 0x102,         /* call_indirect to an empty slot */
  SBX_TRAP_TYPE = 0x103,         /* call_indirect with the wrong signature */
  SBX_TRAP_HOST = 0x104,         /* a host function raised; Python holds the exception */
  SBX_TRAP_EXIT = 0x105,         /* the module called proc_exit */
  SBX_TRAP_CLOSED = 0x106,       /* a call into a closed instance */
  SBX_TRAP_MEMORY = 0x107,       /* initial memory above the limit */
  SBX_TRAP_UNSUPPORTED = 0x108,  /* a 64-bit or custom-page-size memory */
  SBX_TRAP_FUEL = 0x109,         /* fuel ran out, or the call's deadline passed */
  SBX_TRAP_UNREGISTERED = 0x10A, /* a callback removed, or of a closed instance, was called */
  SBX_TRAP_TABLE_LIMIT = 0x10B,  /* a table of the module is larger than the limit */
  SBX_TRAP_NO_ROOM = 0x10C,      /* the machine has no room for the memory (see _slab.failure) */
  SBX_TRAP_INTERRUPTED = 0x10D,  /* interrupt() stopped the call */
  SBX_TRAP_SIGNAL = 0x10E,       /* a watched signal (SIGINT) stopped the main thread's call */
};

#endif
