;; Two functions calling each other by return_call forever (no loop, no stack growth:
;; wasm2c's trampoline): the time limit holds.
;; raises: ResourceError: CPU limit
(module
  (memory (export "memory") 1)
  (func $ping (param i32) (result i32) (return_call $pong (i32.add (local.get 0) (i32.const 1))))
  (func $pong (param i32) (result i32) (return_call $ping (local.get 0)))
  (func (export "answer") (result i32) (call $ping (i32.const 0))))
