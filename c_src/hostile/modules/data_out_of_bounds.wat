;; An active data segment that ends past the memory: instantiation must trap, not write.
;; limit: TrapError: out-of-bounds
(module
  (memory (export "memory") 1)
  (data (i32.const 65530) "0123456789")
  (func (export "answer") (result i32) (i32.const 42)))
