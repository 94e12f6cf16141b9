;; Stores through one base with SIMD operations between them in a straight run, the last
;; past the memory's end: the run's one merged check traps.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $v v128)
    (local.set $p (i32.const 16))
    (local.set $v (v128.const i32x4 1 2 3 4))
    (v128.store (local.get $p) (local.get $v))
    (local.set $v (i16x8.add (local.get $v) (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
                                                           (local.get $v) (local.get $v))))
    (v128.store offset=65520 (local.get $p) (local.get $v))
    (i32.load (local.get $p))))
