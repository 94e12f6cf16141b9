;; Extra memories, each of which got a slot and a limit of its own: 48 of them under a
;; 16 MiB limit took 752 MiB of host memory on both backends.
;; refused: BuildError: memory section: 3 memories; the ABI needs exactly one
(module
  (memory (export "memory") 1)
  (memory $m1 1)
  (memory $m2 1)
  (func (export "grow_all") (result i32)
    (drop (memory.grow $m1 (i32.const 255)))
    (memory.grow $m2 (i32.const 255))))
