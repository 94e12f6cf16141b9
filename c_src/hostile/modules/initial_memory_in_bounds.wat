;; Not an attack: the compiled code is told the memory never holds less than its initial
;; size (backends/wasm2c/translate.py's SBX_MIN_MEMORY), so accesses it can place below
;; that have no check. The last bytes of the initial memory read as stored at constant
;; addresses, and after memory.grow the new page reads as zero, at a constant address and
;; through a table index the code bounds (0-3, scaled by 4) but reads from memory (2).
;; answers: 42
(module
  (memory (export "memory") 2 4)
  (data (i32.const 131064) "\28\00\00\00\02\00\00\00")
  (func (export "answer") (result i32) (local $i i32)
    (local.set $i (i32.and (i32.load (i32.const 131068)) (i32.const 3)))
    (drop (memory.grow (i32.const 1)))
    (i32.add (i32.add (i32.load (i32.const 131064)) (i32.load (i32.const 131068)))
             (i32.add (i32.load offset=131064 (i32.shl (local.get $i) (i32.const 2)))
                      (i32.load (i32.const 131072))))))
