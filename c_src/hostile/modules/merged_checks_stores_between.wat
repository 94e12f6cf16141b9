;; Stores and loads through copies of one base in a straight run, then a store past the
;; memory's end: the run's merged check traps (before its stores: the sandbox is
;; poisoned either way).
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $q i32)
    (local.set $p (i32.const 16))
    (local.set $q (local.get $p))
    (i32.store (local.get $p) (i32.const 7))
    (i32.store offset=4 (local.get $q) (i32.load (local.get $p)))
    (i32.store offset=65520 (local.get $q) (i32.const 1))
    (i32.load offset=4 (local.get $p))))
