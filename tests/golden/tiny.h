/* tiny.h: the header of the golden-file test (tests/test_codegen_golden.py).
   Its generated proxy and stubs are checked in as tiny/__init__.py.golden and
   tiny/__init__.pyi.golden. No #include and no #if besides the guard: the test
   preprocesses it without a compiler. */
#ifndef TINY_H
#define TINY_H

#define TINY_VERSION "1.0"
#define TINY_MAX (1 << 4)
#define TINY_SCALE 0.5

typedef unsigned int tiny_u32;

enum tiny_mode { TINY_FAST, TINY_SLOW = 4 };

typedef int (*tiny_visit)(void *user, int value);

/* a function type (not a pointer type) and a struct of function pointers: both get a
   named Signature (tiny_filter, tiny_ops_combine) */
typedef int tiny_filter(int value);

struct tiny_ops {
    tiny_filter *filter;
    int (*combine)(int a, int b);
};

/* exactly one field: its _fields_ tuple needs a trailing comma */
struct tiny_one {
    int only;
};

struct tiny_point {
    int x;
    int y;
    char label[8];
};

int tiny_add(int a, int b);
const char *tiny_name(void);
tiny_u32 tiny_hash(const char *text, unsigned long len);
int tiny_divmod(int a, int b, int *rem);
void tiny_move(struct tiny_point *p, int dx, int dy);
int tiny_each(const int *values, int n, tiny_visit visit, void *user);
enum tiny_mode tiny_mode_of(int v);
void tiny_free(void *self);
int tiny_sum(int n, ...); /* skipped: variadic */

#endif
