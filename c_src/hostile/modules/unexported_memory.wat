;; A memory the host cannot find by the ABI's name.
;; refused: BuildError: export section: the memory is not exported as 'memory'
(module
  (memory (export "heap") 1))
