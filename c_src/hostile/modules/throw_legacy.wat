;; Legacy exception handling (try/catch), which wasmtime refuses and wasm2c would run:
;; one module must run alike on both backends.
;; refused: BuildError: legacy exception handling (try)
(module
  (tag $longjmp (param i32))
  (memory (export "memory") 1)
  (func (export "answer") (result i32)
    (try (result i32)
      (do (throw $longjmp (i32.const 42)))
      (catch $longjmp))))
