;; The ABI's malloc with a type of its own: the host's allocations read its result.
;; refused: BuildError: export section: 'malloc' has type (i64) -> (i64)
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i64) (result i64) (local.get 0)))
