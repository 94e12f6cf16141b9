;; Not an attack: C's setjmp/longjmp as LLVM lowers it (one tag of type [i32], thrown
;; and caught by try_table inside the call), which both backends run alike.
;; answers: 42
(module
  (tag $longjmp (param i32))
  (memory (export "memory") 1)
  (func $jump (param i32) (throw $longjmp (local.get 0)))
  (func (export "answer") (result i32)
    (block $caught (result i32)
      (try_table (catch $longjmp $caught)
        (call $jump (i32.const 42)))
      (i32.const -1))))
