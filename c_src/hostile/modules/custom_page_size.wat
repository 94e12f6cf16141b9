;; A memory with 1-byte pages: limits and slots are computed in 64 KiB pages.
;; features: --enable-custom-page-sizes
;; refused: BuildError: memory section: the memory declares a custom page size
(module
  (memory (export "memory") 1 (pagesize 1)))
