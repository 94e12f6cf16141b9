;; A memory of no pages (it may grow to one) and a load of 4 bytes at address 0: every
;; address is out of bounds, the first one included.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 0 1)
  (func (export "answer") (result i32)
    (i32.load (i32.const 0))))
