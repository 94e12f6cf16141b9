;; Exception-handling tags: an exception thrown through the host's frames.
;; refused: BuildError: tag section: exception-handling tags
(module
  (tag $boom)
  (memory (export "memory") 1)
  (func (export "throw") (throw $boom)))
