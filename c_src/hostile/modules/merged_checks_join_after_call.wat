;; wasm2c follows each call_indirect with preprocessor lines at the margin, between a
;; branch to a block's end and that end here: the way that branched never checked the
;; base (near the memory's end), the way falling in did, so the load after the block
;; must trap.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (type $nullary (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $one)
  (func $one (result i32) (i32.const 1))
  (func (export "answer") (result i32) (local $p i32)
    (local.set $p (i32.const 65534))
    (block $joined
      (br_if $joined (call_indirect (type $nullary) (i32.const 0)))
      (drop (call_indirect (type $nullary) (i32.const 0)))
      (local.set $p (i32.const 0))
      (drop (i32.load offset=8 (local.get $p))))
    (i32.load (local.get $p))))
