;; The base changes between two accesses of one straight run: a copy of it made before
;; keeps the old value, and the access through that copy, past the memory's end, must
;; trap however the checks of the new base (all in bounds) are merged.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $q i32)
    (local.set $p (i32.const 65532))
    (local.set $q (local.get $p))
    (drop (i32.load (local.get $q)))
    (local.set $p (i32.const 0))
    (i32.add (i32.load offset=4 (local.get $p))
             (i32.load offset=8 (local.get $q)))))
