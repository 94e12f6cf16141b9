;; A memory that starts bigger than Limits.memory_bytes (4,800 pages, 300 MiB): the
;; shape is the ABI's, the limit holds before anything compiles it.
;; limit: ResourceError: memory
(module
  (memory (export "memory") 4800)
  (func (export "answer") (result i32) (i32.const 42)))
