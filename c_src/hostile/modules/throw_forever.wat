;; A throw caught and thrown again forever: the time limit holds while unwinding.
;; raises: ResourceError: CPU limit
(module
  (tag $longjmp (param i32))
  (memory (export "memory") 1)
  (func (export "answer") (result i32)
    (loop $again
      (block $caught (result i32)
        (try_table (catch $longjmp $caught) (throw $longjmp (i32.const 1)))
        (unreachable))
      (drop)
      (br $again))
    (i32.const 0)))
