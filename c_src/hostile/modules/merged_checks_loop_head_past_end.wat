;; A loop's first accesses, through a base the loop never changes, share one check
;; (backends/wasm2c/checks.py) that must cover the farthest of them, here 1 byte past
;; the memory's end, so the call traps in the loop's first round.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $n i32)
    (loop $again
      (local.set $n (i32.add (local.get $n) (i32.load (local.get $p))))
      (drop (i32.load offset=65533 (local.get $p)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $n) (i32.const 3))))
    (local.get $n)))
