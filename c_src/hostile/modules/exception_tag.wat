;; An exception tag of another type than C's longjmp's: the ABI accepts one tag, [i32].
;; refused: BuildError: tag section: the exception tag has type () -> (); C's longjmp throws (i32) -> ()
(module
  (tag $boom)
  (memory (export "memory") 1)
  (func (export "throw") (throw $boom)))
