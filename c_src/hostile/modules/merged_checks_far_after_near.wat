;; One straight run reads 0 (in bounds), then 4 bytes just past the memory's end (inside
;; the sandbox's slot, which is sized for its limit): wasm2c merges both checks into one
;; (backends/wasm2c/checks.py), which must cover the far access, so the call traps.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (local $p i32)
    (i32.add (i32.load (local.get $p))
             (i32.load offset=65536 (local.get $p)))))
