/* sjlj: a tiny parser whose error path is setjmp/longjmp, as Lua's, libjpeg's and
 * libpng's are. Written for sandboxlib's tests (tests/test_sjlj.py). */
#ifndef SJLJ_H
#define SJLJ_H

#include <setjmp.h>
#include <stdint.h>

#define SJ_MESSAGE_SIZE 64

/* A parse: where it jumps to on an error, and the error's message. */
typedef struct sj_parse {
    jmp_buf on_error;
    char message[SJ_MESSAGE_SIZE];
} sj_parse;

typedef int32_t (*sj_visit)(void *user, int32_t value);

/* The sum of a comma-separated list of decimal numbers; on bad input -1, and the
 * message (e.g. "bad digit 'x' at 2") in `message` (`size` bytes, NUL-terminated). */
int32_t sj_sum(const char *text, char *message, int32_t size);

/* sj_sum, calling `visit` on each number first: a negative answer is an error
 * ("rejected by the visitor"), raised by longjmp out of the parse. */
int32_t sj_each(const char *text, sj_visit visit, void *user, char *message, int32_t size);

/* Raise an error in the innermost sj_each now running (its visitor may call this);
 * nothing if none runs. */
void sj_fail(int32_t code);

/* `depth` nested setjmps, each a frame of recursion; the innermost longjmps to the
 * one at `target` (0: the outermost); returns the depth it landed at, -1 if none. */
int32_t sj_nested(int32_t depth, int32_t target);

/* What sigsetjmp returns after siglongjmp(env, value): value, or 1 for 0. */
int32_t sj_sig(int32_t value);

#endif
