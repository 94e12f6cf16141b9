#include "sjlj.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static sj_parse *running; /* the innermost sj_each: where sj_fail jumps */

static void fail(sj_parse *p, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(p->message, sizeof p->message, format, args);
    va_end(args);
    longjmp(p->on_error, 1);
}

static int32_t number(sj_parse *p, const char **s, int at) {
    int64_t n = 0;
    if (**s < '0' || **s > '9')
        fail(p, "bad digit '%c' at %d", **s ? **s : '$', at);
    while (**s >= '0' && **s <= '9') {
        n = n * 10 + (**s - '0');
        if (n > INT32_MAX)
            fail(p, "number too large at %d", at);
        (*s)++;
    }
    return (int32_t)n;
}

static int32_t parse(sj_parse *p, const char *text, sj_visit visit, void *user) {
    const char *s = text;
    int64_t sum = 0;
    for (;;) {
        int32_t n = number(p, &s, (int)(s - text));
        if (visit && visit(user, n) < 0)
            fail(p, "%d rejected by the visitor", (int)n);
        sum += n;
        if (!*s)
            return (int32_t)sum;
        if (*s != ',')
            fail(p, "bad separator '%c' at %d", *s, (int)(s - text));
        s++;
    }
}

static int32_t run(const char *text, sj_visit visit, void *user, char *message, int32_t size) {
    sj_parse p;
    sj_parse *volatile outer = running;
    volatile int32_t result = -1;
    p.message[0] = '\0';
    running = &p;
    if (setjmp(p.on_error) == 0)
        result = parse(&p, text, visit, user);
    running = outer;
    if (size > 0) {
        strncpy(message, p.message, (size_t)size - 1);
        message[size - 1] = '\0';
    }
    return result;
}

int32_t sj_sum(const char *text, char *message, int32_t size) {
    return run(text, NULL, NULL, message, size);
}

int32_t sj_each(const char *text, sj_visit visit, void *user, char *message, int32_t size) {
    return run(text, visit, user, message, size);
}

void sj_fail(int32_t code) {
    if (running) {
        snprintf(running->message, sizeof running->message, "failed with %d", (int)code);
        longjmp(running->on_error, 1);
    }
}

static int32_t nest(jmp_buf *bufs, int32_t level, int32_t depth, int32_t target) {
    if (level == depth) {
        longjmp(bufs[target], target + 1);
    }
    int r = setjmp(bufs[level]);
    if (r)
        return r - 1;
    return nest(bufs, level + 1, depth, target);
}

int32_t sj_nested(int32_t depth, int32_t target) {
    static jmp_buf bufs[256];
    if (depth < 1 || depth > 256 || target < 0 || target >= depth)
        return -1;
    return nest(bufs, 0, depth, target);
}

int32_t sj_sig(int32_t value) {
    static sigjmp_buf env;
    int r = sigsetjmp(env, 1);
    if (r)
        return r;
    siglongjmp(env, value);
}
