;; Not an attack: a throw caught and thrown again at each of 200 nested calls (each
;; level a try_table, as 200 nested setjmps are), counted on the way out.
;; answers: 200
(module
  (tag $longjmp (param i32))
  (memory (export "memory") 1)
  (func $nest (param $depth i32)
    (if (i32.eqz (local.get $depth)) (then (throw $longjmp (i32.const 0))))
    (throw $longjmp
      (i32.add (i32.const 1)
        (block $caught (result i32)
          (try_table (catch $longjmp $caught)
            (call $nest (i32.sub (local.get $depth) (i32.const 1))))
          (unreachable)))))
  (func (export "answer") (result i32)
    (block $caught (result i32)
      (try_table (catch $longjmp $caught) (call $nest (i32.const 200)))
      (i32.const -1))))
