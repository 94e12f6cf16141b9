/* sandboxlib: the exception tag of C's longjmp on wasm32, linked into every module.
   LLVM's wasm setjmp/longjmp lowering (-mllvm -wasm-enable-sjlj) throws and catches
   `__c_longjmp`, a tag taking the address of the jump's target and value (see
   __wasm_longjmp in wasi-libc's setjmp/wasm32/rt.c, which zig's libc carries); the
   libc leaves defining it to the toolchain. A module without setjmp never refers to
   it, and the linker drops it. */
__asm__(
    ".globl __c_longjmp\n"
    ".tagtype __c_longjmp i32\n"
    "__c_longjmp:\n");
