;; A tag exported to the host, for the host to catch or throw the module's exceptions.
;; refused: BuildError: export section: 'boom' exports a tag
(module
  (tag $boom (export "boom") (param i32))
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (i32.const 42)))
