;; A table of externref posing as the function table: wasmtime put callbacks in it as
;; external references.
;; refused: BuildError: table section: the table holds externref
(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 4 externref))
