;; Not an attack: active data segments, the later one overwriting part of the earlier.
;; wasm2c's backend copies them in itself (backends/wasm2c/datasegments.py): each must
;; land where wasm says, in the module's order (16 + 26; the other order: 16 + 32).
;; answers: 42
(module
  (memory (export "memory") 1)
  (data (i32.const 1000) "\10\00\00\00\20\00\00\00")
  (data (i32.const 1004) "\1a\00\00\00")
  (func (export "answer") (result i32)
    (i32.add (i32.load (i32.const 1000)) (i32.load (i32.const 1004)))))
