;; A WASI call imported with a type of its own making.
;; refused: CapabilityError: import section: wasi_snapshot_preview1.fd_write has type (i32) -> (i32)
(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
  (memory (export "memory") 1))
