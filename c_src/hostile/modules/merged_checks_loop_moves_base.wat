;; A check passed before a loop holds at the loop's head only for bases the loop leaves
;; alone: here the loop reads through $p, which a check before it covered, then moves $p
;; on, so that its third round reads just past the memory's end and must trap.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $sum i32)
    (drop (i32.load (local.get $p)))
    (loop $again
      (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 32768)))
      (br_if $again (i32.le_u (local.get $p) (i32.const 65536))))
    (local.get $sum)))
