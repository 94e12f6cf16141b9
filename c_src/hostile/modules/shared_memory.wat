;; A shared memory (threads): a sandbox's memory is its own.
;; features: --enable-threads
;; refused: BuildError: memory section: the memory is shared
(module
  (memory (export "memory") 1 2 shared))
