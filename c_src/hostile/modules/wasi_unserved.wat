;; Not an attack: a WASI preview 1 call sandboxlib does not serve (a library's file
;; functions import such calls). It is answered alike on every backend: ENOSYS (52).
;; answers: 52
(module
  (import "wasi_snapshot_preview1" "fd_tell" (func $fd_tell (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (call $fd_tell (i32.const 1) (i32.const 16))))
