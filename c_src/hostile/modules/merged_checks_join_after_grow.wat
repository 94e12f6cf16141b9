;; wasm2c writes a memory.grow with preprocessor lines at the margin, between a branch
;; to a block's end and that end: the way that branched moved the base near the memory's
;; end, so the load after the block must trap however the way falling in was checked.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32)
    (block $joined
      (local.set $p (i32.const 65534))
      (br_if $joined (i32.const 1))
      (local.set $p (i32.const 0))
      (drop (memory.grow (i32.const 0)))
      (drop (i32.load offset=8 (local.get $p))))
    (i32.load (local.get $p))))
