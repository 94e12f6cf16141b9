;; A tag imported from the host: an exception the module could share with the host's
;; frames (or another module's). A module's tag is its own.
;; refused: CapabilityError: import section: wasi_snapshot_preview1.boom imports a tag
(module
  (import "wasi_snapshot_preview1" "boom" (tag $boom (param i32)))
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (throw $boom (i32.const 1))))
