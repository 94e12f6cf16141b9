;; Not an attack: an active data segment whose offset is an extended constant expression,
;; copied in by wasm2c's backend itself: it must land where wasm says (2000 + 2 * 4), and
;; the memory before it stay zero.
;; answers: 42
(module
  (memory (export "memory") 1)
  (data (i32.add (i32.const 2000) (i32.mul (i32.const 2) (i32.const 4))) "\2a\00\00\00")
  (func (export "answer") (result i32)
    (i32.add (i32.load (i32.const 2008)) (i32.load (i32.const 2004)))))
