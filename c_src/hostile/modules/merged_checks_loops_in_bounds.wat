;; Not an attack: a loop whose accesses are covered by a check at its head or at a
;; block's end that two ways reach, all in bounds up to the last byte of the memory:
;; three rounds add the word at its end (5) and what the loop stored and moved on (25).
;; answers: 25
(module
  (memory (export "memory") 1)
  (data (i32.const 65532) "\05\00\00\00")
  (func (export "answer") (result i32) (local $p i32) (local $q i32) (local $n i32)
    (local.set $q (i32.const 65528))
    (loop $again
      (local.set $n (i32.add (local.get $n) (i32.load offset=65532 (local.get $p))))
      (block $joined
        (br_if $joined (i32.and (local.get $n) (i32.const 1)))
        (i32.store (local.get $q) (local.get $n)))
      (local.set $n (i32.add (local.get $n) (i32.load (local.get $q))))
      (local.set $q (i32.sub (local.get $q) (i32.const 4)))
      (br_if $again (i32.ge_u (local.get $q) (i32.const 65520))))
    (local.get $n)))
