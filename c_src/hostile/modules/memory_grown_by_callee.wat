;; Not an attack: a function reads the memory's size again after each call, and is told
;; it is no less than before (hooks.h's SBX_MEMORY_SIZE). Here a callee grows the memory
;; by a page between two reads of the caller: the caller's access to the new page, out of
;; bounds before the call, is in bounds after it, and reads the callee's store.
;; answers: 42
(module
  (memory (export "memory") 1 3)
  (func $grow (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 65536) (i32.const 40))
    (i32.const 2))
  (func (export "answer") (result i32) (local $p i32)
    (local.set $p (i32.const 65532))
    (i32.store (local.get $p) (i32.const 1))
    (i32.add (call $grow) (i32.load offset=4 (local.get $p)))))
