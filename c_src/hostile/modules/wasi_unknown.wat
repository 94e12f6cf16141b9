;; A call from outside WASI preview 1 under WASI's module name.
;; refused: CapabilityError: import section: wasi_snapshot_preview1.sock_open is not a WASI preview 1 call
(module
  (import "wasi_snapshot_preview1" "sock_open" (func (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1))
