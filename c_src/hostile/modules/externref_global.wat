;; A global of a reference type: host references stored where the host never looks.
;; refused: BuildError: global section: global 0 has type externref
(module
  (global $g (mut externref) (ref.null extern))
  (memory (export "memory") 1))
