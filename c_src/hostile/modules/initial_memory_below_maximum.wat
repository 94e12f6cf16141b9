;; A constant address inside the memory's declared maximum but past its initial size,
;; which was never grown: out of bounds, whatever the maximum says.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1 2)
  (func (export "answer") (result i32)
    (i32.load (i32.const 65536))))
