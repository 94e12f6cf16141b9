/* sandboxlib: the wasm32 libc's <setjmp.h>, with sigsetjmp and siglongjmp as setjmp
   and longjmp, which LLVM lowers to wasm exceptions (a sandbox has no signal mask to
   save or restore). Every wasm build and header preprocessing finds this one first. */
#include_next <setjmp.h>

#ifndef SANDBOXLIB_SETJMP_H
#define SANDBOXLIB_SETJMP_H
#undef sigsetjmp
#undef siglongjmp
#define sigsetjmp(env, savemask) setjmp(env)
#define siglongjmp(env, val) longjmp(env, val)
#endif
