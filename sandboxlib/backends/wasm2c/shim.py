"""The generated part of the C shim between cffi and the translated module, and
its cffi declarations.

After the fixed part (``csrc/runtime.c``, included), per module it emits:
instantiation, one trap-catching wrapper per exported function the library declares
(typed with the C signedness of the declaration, so cffi converts values directly), one
stub per WASI import (forwarding to Python), and one trampoline per function type of
the module (a callback in a table slot calls Python).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...abi import Function, Prim, wasm_field
from ..base import RAW_VALUE_C
from ._csrc import MODULE_NAME
from .translate import CDecl, Translation
from ...toolchain.wasmbinary import FuncType

_FIELD_CTYPE = {"i32": "int32_t", "u32": "uint32_t", "i64": "int64_t", "u64": "uint64_t",
                "f32": "float", "f64": "double"}
_WASM_CTYPE = {"i32": "u32", "i64": "u64", "f32": "f32", "f64": "f64"}
_WASM_ENUM = {"i32": "WASM_RT_I32", "i64": "WASM_RT_I64", "f32": "WASM_RT_F32",
              "f64": "WASM_RT_F64"}
WASM_RT_TRAPS = (  # wasm-rt's trap codes, read from the compiled extension
    "WASM_RT_TRAP_OOB", "WASM_RT_TRAP_INT_OVERFLOW", "WASM_RT_TRAP_DIV_BY_ZERO",
    "WASM_RT_TRAP_INVALID_CONVERSION", "WASM_RT_TRAP_UNREACHABLE", "WASM_RT_TRAP_CALL_INDIRECT",
    "WASM_RT_TRAP_NULL_REF", "WASM_RT_TRAP_UNCAUGHT_EXCEPTION", "WASM_RT_TRAP_UNALIGNED",
    "WASM_RT_TRAP_EXHAUSTION")

_BASE_CDEF = RAW_VALUE_C + """
typedef struct { uint32_t trap; const char *trap_in; ...; } sbx_state;
typedef struct { uint8_t *data; uint64_t size; ...; } wasm_rt_memory_t;
typedef ... sbx_instance;
sbx_instance *sbx_new(uint64_t max_pages, uint32_t max_table, uintptr_t handle, int64_t fuel,
                      uint64_t timeout);
typedef struct { uint32_t offset; uint32_t size; const uint8_t *bytes; } sbx_segment;
int sbx_instantiate(sbx_instance *, const sbx_segment *, uint32_t);
int sbx_use_slab(uintptr_t api);
sbx_state *sbx_state_of(sbx_instance *);
int sbx_interrupted(sbx_instance *);
int sbx_interrupt(sbx_instance *);
void sbx_set_clock(uintptr_t);
void sbx_close(sbx_instance *);
int sbx_pin(sbx_instance *);
uint64_t sbx_grow_memory(wasm_rt_memory_t *mem, uint64_t delta);
void sbx_unpin(sbx_instance *);
void sbx_delete(sbx_instance *);
extern "Python" int64_t sbx_py_import(uintptr_t, int, sbx_val *);
void sbx_set_dispatch(uintptr_t);
"""


@dataclass(frozen=True)
class Wrapped:
    """An export with a generated wrapper ``sbx_x<index>``."""

    index: int
    function: Function

    @property
    def symbol(self) -> str:
        return f"sbx_x{self.index}"

    @property
    def entry(self) -> str:
        """Its uniform entry for the compiled boundary (``RAW_UNIFORM``)."""
        return f"sbx_r{self.index}"


@dataclass(frozen=True)
class Shim:
    prelude: str
    cdef: str
    wrapped: dict[tuple[str, tuple[tuple[str, ...], str | None]], Wrapped]
    trampolines: dict[FuncType, int]  # callback signature -> trampoline number


def fields(fn: Function) -> tuple[tuple[str, ...], str | None]:
    """The raw-value fields of ``fn``'s parameters and result."""
    return (tuple(wasm_field(t) for t in fn.sig.params),
            None if fn.sig.result is Prim.VOID else wasm_field(fn.sig.result))


def generate(tr: Translation, functions: list[Function], types: tuple[FuncType, ...]) -> Shim:
    """The shim for ``functions`` (already checked against the exports' types)."""
    c: list[str] = [f"#define SBX_EXCEPTIONS {int(tr.exceptions)}", '#include "runtime.c"']
    cdef: list[str] = [_BASE_CDEF, *(f"static const int {name};" for name in WASM_RT_TRAPS)]
    host_struct = tr.imports[0].decl.first_param if tr.imports else None
    import_arg = f", ({host_struct})&s->state" if host_struct else ""
    memory = tr.exports.get("memory")
    load = f"sbx_load_segments({memory.symbol}(&s->module), segs, n)" if memory else "(void)segs"
    c.append(f"""
int sbx_instantiate(sbx_instance* s, const sbx_segment* segs, uint32_t n) {{
  SBX_CALL(s, return (int)s->state.trap,
           wasm2c_{MODULE_NAME}_instantiate(&s->module{import_arg}); {load})
  return (int)s->state.trap;
}}""")
    for index, imp in enumerate(tr.imports):
        c.append(_import_stub(index, imp.decl))
    wrapped: dict[tuple[str, tuple[tuple[str, ...], str | None]], Wrapped] = {}
    for fn in functions:
        w = wrapped[fn.name, fields(fn)] = Wrapped(len(wrapped), fn)
        c_src, decl = _wrapper(w, tr.exports[fn.name])
        c.append(c_src)
        cdef.append(decl)
    if "memory" in tr.exports:
        c.append(f"wasm_rt_memory_t* sbx_memory(sbx_instance* s) {{\n"
                 f"  return {tr.exports['memory'].symbol}(&s->module);\n}}\n"
                 "void sbx_region(sbx_instance* s, uint8_t** base, uint64_t* size) {\n"
                 "  wasm_rt_memory_t* m = sbx_memory(s);\n"
                 "  *base = m->data;\n  *size = m->size;\n}")
        cdef.append("wasm_rt_memory_t *sbx_memory(sbx_instance *);\n"
                    "void sbx_region(sbx_instance *, uint8_t **, uint64_t *);")
    trampolines: dict[FuncType, int] = {}
    table = tr.exports.get("__indirect_function_table")
    if table is not None:
        for t in types:
            if (t not in trampolines and len(t.results) <= 1
                    and all(v in _WASM_CTYPE for v in (*t.params, *t.results))):
                trampolines[t] = len(trampolines)
        c.append(_callbacks(trampolines, table))
        cdef.append("int64_t sbx_add_callback(sbx_instance *, int, uintptr_t);\n"
                    "void sbx_remove_callback(sbx_instance *, uint32_t);")
    return Shim("\n".join(c), "\n".join(cdef), wrapped, trampolines)


def _import_stub(index: int, decl: CDecl) -> str:
    params = "".join(f", {t} a{i}" for i, t in enumerate(decl.params))
    stores = "".join(f"  v[{i}].{t} = a{i};\n" for i, t in enumerate(decl.params))
    tail = "  (void)r;\n" if decl.result == "void" else f"  return ({decl.result})r;\n"
    return (f"{decl.result} {decl.symbol}({decl.first_param} env{params}) {{\n"
            f"  sbx_val v[{max(len(decl.params), 1)}];\n{stores}"
            "  void* gs_base = sbx_gs_base();\n"
            f"  int64_t r = sbx_py_import(((sbx_state*)env)->handle, {index}, v);\n"
            "  sbx_set_gs_base(gs_base);\n"
            "  if (r < 0)\n    sbx_trap((wasm_rt_trap_t)-r);\n"
            f"{tail}}}")


def _wrapper(w: Wrapped, decl: CDecl) -> tuple[str, str]:
    ins, out = fields(w.function)
    ctypes = [_FIELD_CTYPE[f] for f in ins]
    result = _FIELD_CTYPE[out] if out else "void"
    params = "".join(f", {t} a{i}" for i, t in enumerate(ctypes))
    args = "".join(f", ({decl.params[i]})a{i}" for i in range(len(ins)))
    call = f"{decl.symbol}(&s->module{args})"
    if out:
        body = (f"  {result} r = 0;\n  SBX_CALL(s, return r, r = ({result}){call})\n"
                "  return r;\n")
    else:
        body = f"  SBX_CALL(s, return, {call})\n"
    c_src = f"{result} {w.symbol}(sbx_instance* s{params}) {{\n{body}}}"
    # the same call with its values in an array, the trap code returned
    uargs = "".join(f", ({decl.params[i]})v[{i}].{f}" for i, f in enumerate(ins))
    ucall = f"{decl.symbol}(&s->module{uargs})"
    stored = f"v[0].{out} = ({result}){ucall}" if out else ucall
    c_src += (f"\nint {w.entry}(sbx_instance* s, sbx_val* v) {{\n"
              f"  SBX_CALL(s, return (int)s->state.trap, {stored})\n"
              "  return (int)s->state.trap;\n}")
    return c_src, (f"{result} {w.symbol}(sbx_instance *{''.join(', ' + t for t in ctypes)});\n"
                   f"int {w.entry}(sbx_instance *, sbx_val *);")


def _callbacks(trampolines: dict[FuncType, int], table: CDecl) -> str:
    out = ["static const char sbx_no_type[32] = \"sandboxlib: no such wasm type\";",
           "static void sbx_no_call(void) {\n  sbx_trap((wasm_rt_trap_t)SBX_TRAP_TYPE);\n}"]
    cases = []
    for t, k in trampolines.items():
        result = _WASM_CTYPE[t.results[0]] if t.results else "void"
        params = "".join(f", {_WASM_CTYPE[p]} a{i}" for i, p in enumerate(t.params))
        stores = "".join(f"  v[{i}].{_WASM_CTYPE[p]} = a{i};\n" for i, p in enumerate(t.params))
        ret = f"  return v[0].{result};\n" if t.results else ""
        out.append(f"static {result} sbx_cb{k}(void* env{params}) {{\n"
                   "  sbx_cb* cb = (sbx_cb*)env;\n"
                   "  if (cb->removed || __atomic_load_n(&cb->owner->closed, __ATOMIC_SEQ_CST))\n"
                   "    sbx_trap((wasm_rt_trap_t)SBX_TRAP_UNREGISTERED);\n"
                   f"  sbx_val v[{max(len(t.params), 1)}];\n{stores}"
                   "  void* gs_base = sbx_gs_base();\n"
                   "  int rc = sbx_dispatch(cb->target, v);\n"
                   "  sbx_set_gs_base(gs_base);\n"
                   "  if (rc)\n"
                   "    sbx_trap((wasm_rt_trap_t)(rc == 2 ? SBX_TRAP_UNREGISTERED : SBX_TRAP_HOST));\n"
                   f"{ret}}}")
        enums = "".join(f", {_WASM_ENUM[v]}" for v in (*t.params, *t.results))
        cases.append(f"    case {k}:\n      type = wasm2c_{MODULE_NAME}_get_func_type("
                     f"{len(t.params)}, {len(t.results)}{enums});\n"
                     f"      fn = (wasm_rt_function_ptr_t)sbx_cb{k};\n      break;")
    nl = "\n"
    out.append(f"""
/* A new slot calling `target` through trampoline k; -1 if the table cannot grow. */
int64_t sbx_add_callback(sbx_instance* s, int k, uintptr_t target) {{
  wasm_rt_func_type_t type = NULL;
  wasm_rt_function_ptr_t fn = (wasm_rt_function_ptr_t)sbx_no_call;
  switch (k) {{
{nl.join(cases)}
  }}
  if (!type) {{ /* no call site can expect this signature: every call mismatches */
    type = sbx_no_type;
    fn = (wasm_rt_function_ptr_t)sbx_no_call;
  }}
  sbx_cb* cb = calloc(1, sizeof *cb);
  if (!cb || !sbx_hold(s)) {{
    free(cb);
    return -1;
  }}
  cb->owner = &s->state;
  cb->target = (void*)target;
  wasm_rt_funcref_t ref = {{type, fn, {{NULL}}, cb}};
  uint32_t index = wasm_rt_grow_funcref_table({table.symbol}(&s->module), 1, ref);
  if (index == UINT32_MAX) {{
    free(cb);
  }} else {{
    cb->index = index;
    cb->next = s->state.callbacks;
    s->state.callbacks = cb;
  }}
  sbx_drop(s);
  return index == UINT32_MAX ? -1 : (int64_t)index;
}}

/* Calls through the record registered at `index` trap from now on, from whichever
   slot the module copied it to; its own slot is emptied. */
void sbx_remove_callback(sbx_instance* s, uint32_t index) {{
  if (!sbx_hold(s))
    return;
  wasm_rt_funcref_table_t* table = {table.symbol}(&s->module);
  for (sbx_cb* cb = s->state.callbacks; cb; cb = cb->next) {{
    if (cb->index == index && !cb->removed) {{
      cb->removed = 1;
      if (index < table->size && table->data[index].module_instance == cb)
        table->data[index] = wasm_rt_funcref_null_value;
    }}
  }}
  sbx_drop(s);
}}""")
    return "\n".join(out)
