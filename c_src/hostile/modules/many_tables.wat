;; Extra tables, each bounded alone by Limits.table_elements: 400 tables filled with
;; table.fill took 802 MiB of host memory on wasm2c.
;; refused: BuildError: table section: 3 tables; the ABI has one function table
(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 1 funcref)
  (table $t1 60000 funcref)
  (table $t2 60000 funcref)
  (func (export "fill") (table.fill $t1 (i32.const 0) (ref.null func) (i32.const 60000))))
