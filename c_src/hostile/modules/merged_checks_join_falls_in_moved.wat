;; As merged_checks_join_moved_base, but the way that moved the base falls into the
;; block's end instead of branching there: the load after the block must trap.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32) (local $c i32)
    (block $joined
      (drop (i32.load (local.get $p)))
      (br_if $joined (local.get $c))
      (local.set $p (i32.const 65534)))
    (i32.load (local.get $p))))
