;; As merged_checks_loop_moves_base, but the base moves in a loop nested in the outer
;; loop, after the outer loop's last branch back to its head (the inner loop's next round
;; takes that branch): the outer loop's second round reads through the moved base, just
;; past the memory's end, and must trap.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $n i32) (local $sum i32)
    (drop (i32.load (local.get $p)))
    (loop $outer
      (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $p))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (block $done
        (loop $inner
          (br_if $done (i32.ge_u (local.get $n) (i32.const 2)))
          (br_if $outer (i32.ne (local.get $p) (i32.const 0)))
          (local.set $p (i32.const 65535))
          (br $inner))))
    (local.get $sum)))
