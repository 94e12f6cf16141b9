;; Recursion without end, each level inside a try_table (a jump buffer of the host's
;; on wasm2c): the stack limit holds, and the trap passes every pending catch.
;; raises: TrapError: stack overflow
(module
  (tag $longjmp (param i32))
  (memory (export "memory") 1)
  (func $down (result i32)
    (block $caught (result i32)
      (try_table (catch $longjmp $caught) (call $down) (return))
      (unreachable)))
  (func (export "answer") (result i32) (call $down)))
