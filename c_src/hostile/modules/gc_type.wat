;; A GC struct type: objects the host would have to trace.
;; features: --enable-gc
;; refused: BuildError: type section: type 0 is not a function type
(module
  (type $pair (struct (field i32) (field i32)))
  (memory (export "memory") 1))
