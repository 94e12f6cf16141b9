;; A memory that can never hold a byte. wasmtime's slab divided by the slot size 0
;; (SIGFPE: the host process died while the sandbox was created).
;; refused: BuildError: memory section: the memory's maximum is 0 pages
(module
  (memory (export "memory") 0 0)
  (func (export "answer") (result i32) (i32.const 42)))
