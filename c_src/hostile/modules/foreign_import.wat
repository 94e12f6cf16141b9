;; A function imported from outside WASI.
;; refused: CapabilityError: import section: env.system is not a WASI preview 1 call
(module
  (import "env" "system" (func $system (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (result i32) (call $system (i32.const 0))))
