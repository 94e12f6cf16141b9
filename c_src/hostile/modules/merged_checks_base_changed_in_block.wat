;; A check passed before a block holds after it only for bases the block left alone:
;; here the block moves the base near the memory's end, and the load after it, which
;; an earlier check of the old base would cover, must trap.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $c i32)
    (local.set $c (i32.const 1))
    (drop (i32.load (local.get $p)))
    (if (local.get $c) (then (local.set $p (i32.const 65534))))
    (i32.load (local.get $p))))
