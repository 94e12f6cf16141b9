/* names.c: a tiny library whose every name collides with Python (see names.h). */
#include "names.h"

int alloc(int self, int self_) { return self * 10 + self_; }
int handles(int arg1, int other) { return arg1 - other; }
int callback(int type) { return type + 100; }
int view(int print) { return print * 3; }
int sandbox(void) { return 41; }
int helpers(void) { return 42; }
int _bind(int helpers) { return helpers * 2; }
int True(void) { return 7; }
int print(int lambda_) { return -lambda_; }
int match(int _) { return _ + 1; }
int __init__(int self) { return self + 1000; }
int __len__(void) { return 5; }
int __secret(int v) { return v ^ 0x55; }

int names_fill(struct view *v) {
    v->_address = 1;
    v->address = 2;
    v->False = 3;
    v->type = 4;
    v->bytes = 5;
    v->property[0] = 'p';
    v->property[1] = 'r';
    v->property[2] = 'o';
    v->property[3] = 'p';
    v->__init__ = 6;
    v->snapshot = 7;
    v->Tainted = 8;
    v->inner.True = 9;
    v->inner._sandbox = 10;
    v->inner.layout = 11;
    v->inner.value = 12;
    v->view = 13;
    return (int)sizeof(*v);
}

int names_call(Signature cb, int a, int b) { return cb(a, b); }

const char *names_evil(void) { return NAMES_EVIL; }
