;; A copy keeps the value it copied when the original then changes in place: the load
;; through the copy (past the memory's end) and the store through the changed original
;; (in bounds) are in one straight run, and their checks must not be merged as one base's.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $q i32)
    (i32.store offset=4
      (i32.sub (local.tee $q (i32.const 65532)) (i32.const 65532))
      (i32.load offset=8 (local.get $q)))
    (i32.const 0)))
