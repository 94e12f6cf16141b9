;; An active element segment that ends past the table: instantiation must trap.
;; limit: TrapError: out-of-bounds
(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 2 funcref)
  (func $f)
  (elem (i32.const 1) $f $f $f)
  (func (export "answer") (result i32) (i32.const 42)))
