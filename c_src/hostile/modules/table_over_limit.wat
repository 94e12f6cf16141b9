;; A function table that starts bigger than Limits.table_elements: the shape is the
;; ABI's, the limit holds before anything compiles it.
;; limit: ResourceError: table
(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 1000000 funcref)
  (func (export "answer") (result i32) (i32.const 42)))
