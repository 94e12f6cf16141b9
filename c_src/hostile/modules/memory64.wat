;; A 64-bit memory: every pointer the host checks is 32-bit.
;; refused: BuildError: memory section: the memory is 64-bit
(module
  (memory (export "memory") i64 1))
