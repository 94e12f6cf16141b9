;; Element segments of expressions rather than function indices.
;; refused: BuildError: element section: element segment 0 holds expressions
(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 2 funcref)
  (func $f)
  (elem (table 0) (i32.const 0) funcref (ref.func $f) (ref.null func)))
