;; A function calling itself through the table by return_call_indirect forever: the
;; time limit holds.
;; raises: ResourceError: CPU limit
(module
  (type $t (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $spin)
  (func $spin (type $t)
    (return_call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)))
  (func (export "answer") (result i32) (call $spin (i32.const 0))))
