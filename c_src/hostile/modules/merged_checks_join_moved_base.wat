;; A check passed holds at a block's end only if it held on every way into it: here a
;; br_table leaves for the end with the base checked, but the way taken moves the base
;; near the memory's end first and then branches there too, so the load after the
;; block must trap.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $c i32)
    (local.set $c (i32.const 1))
    (block $joined
      (block $moved
        (drop (i32.load (local.get $p)))
        (br_table $joined $moved (local.get $c)))
      (local.set $p (i32.const 65534))
      (br $joined))
    (i32.load (local.get $p))))
