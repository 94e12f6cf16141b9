;; Not an attack: stores and loads through copies of one base, and through a base that
;; changes, in straight runs whose checks wasm2c merges, all in bounds up to the last
;; byte of the memory: each load sees the store before it.
;; answers: 42
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $q i32)
    (local.set $p (i32.const 65528))
    (local.set $q (local.get $p))
    (i32.store (local.get $p) (i32.const 40))
    (i32.store offset=4 (local.get $q) (i32.add (i32.load (local.get $p)) (i32.const 2)))
    (local.set $p (i32.const 8))
    (i32.store (local.get $p) (i32.load offset=4 (local.get $q)))
    (i32.store8 offset=3 (local.get $q) (i32.const 0))
    (i32.add (i32.load (local.get $p)) (i32.load8_u offset=3 (local.get $q)))))
