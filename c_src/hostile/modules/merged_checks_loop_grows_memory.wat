;; wasm2c writes a memory.grow with preprocessor lines at the margin, inside the loop's
;; body: the loop still assigns what it assigns after them. Here the loop reads through
;; $p, which a check before it covered, grows the memory by nothing, then moves $p near
;; the memory's end: the second round's read must trap.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $n i32)
    (drop (i32.load (local.get $p)))
    (loop $again
      (local.set $n (i32.add (local.get $n) (i32.load (local.get $p))))
      (drop (memory.grow (i32.const 0)))
      (local.set $p (i32.const 65534))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $n) (i32.const 3))))
    (local.get $n)))
