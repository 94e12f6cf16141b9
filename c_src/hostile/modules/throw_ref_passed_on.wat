;; Not an attack: what LLVM emits around calls in a function that calls setjmp, an
;; exception caught as a reference (catch_all_ref, an exnref local) and thrown on
;; (throw_ref) to the frame whose try_table catches it.
;; answers: 42
(module
  (tag $longjmp (param i32))
  (memory (export "memory") 1)
  (func $pass_on (local $exn exnref)
    (local.set $exn
      (block $caught (result exnref)
        (try_table (catch_all_ref $caught) (throw $longjmp (i32.const 42)))
        (return)))
    (throw_ref (local.get $exn)))
  (func (export "answer") (result i32)
    (block $caught (result i32)
      (try_table (catch $longjmp $caught) (call $pass_on))
      (i32.const -1))))
