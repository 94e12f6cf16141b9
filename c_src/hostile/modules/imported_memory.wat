;; A memory imported from the host: it would be the host's memory, not the sandbox's.
;; refused: CapabilityError: import section: env.memory imports a memory
(module
  (import "env" "memory" (memory 1))
  (export "memory" (memory 0)))
