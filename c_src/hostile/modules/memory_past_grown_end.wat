;; A callee grows the memory by a page; the caller then reads 4 bytes ending one byte past
;; the new end, through a base whose first bytes a check before the call passed: what
;; the caller knows after the call (the size is no less than before) does not cover it,
;; so the access keeps its check and traps.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1 3)
  (func $grow (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.const 2))
  (func (export "answer") (result i32) (local $p i32)
    (local.set $p (i32.const 65532))
    (i32.store (local.get $p) (i32.const 1))
    (i32.add (call $grow) (i32.load offset=65537 (local.get $p)))))
