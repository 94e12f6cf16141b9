;; Several tags: C's longjmp needs one.
;; refused: BuildError: tag section: 2 exception tags
(module
  (tag $a (param i32))
  (tag $b (param i32))
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (i32.const 42)))
