;; Not an attack: a hand-written module of the ABI's shape (one memory, exported; one
;; function table), which every backend accepts and runs. The attacks are its variants.
;; answers: 42
(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 1 funcref)
  (func (export "answer") (result i32) (i32.const 42)))
