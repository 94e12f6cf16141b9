;; A constant address whose 4 bytes end one byte past the initial memory (2 pages): the
;; compiled code knows the memory holds at least that much, not more, so the access keeps
;; its check and traps.
;; raises: TrapError: out-of-bounds memory access
(module
  (memory (export "memory") 2 4)
  (func (export "answer") (result i32)
    (i32.load (i32.const 131069))))
