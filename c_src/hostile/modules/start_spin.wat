;; A start function runs while the module is instantiated: before any call, so before
;; any deadline was armed (a sandbox with Limits(timeout=1.0) was never created).
;; refused: BuildError: start section: a start function
(module
  (memory (export "memory") 1)
  (func $spin (loop $forever (br $forever)))
  (start $spin))
