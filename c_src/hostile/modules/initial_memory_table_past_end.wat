;; A table at the end of the initial memory, indexed by a value the code bounds (0-3,
;; scaled by 4) but read from memory: the last index reaches past the end, so that access
;; keeps its check and traps.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 2 4)
  (data (i32.const 0) "\03")
  (func (export "answer") (result i32)
    (i32.load offset=131064 (i32.shl (i32.and (i32.load8_u (i32.const 0)) (i32.const 3))
                                     (i32.const 2)))))
