;; A throw no frame catches: it must end the call as a trap, not unwind into the host.
;; raises: TrapError: uncaught exception
(module
  (tag $longjmp (param i32))
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (throw $longjmp (i32.const 7))))
