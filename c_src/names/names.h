/* names.h: C names that are legal C but collide with Python or with the proxy.
 *
 * `sandboxlib wrap` renames each by one rule, with a warning, and never lets any of
 * it become code. This comment holds """ and ''' and a backslash \ on purpose.
 */
#ifndef NAMES_H
#define NAMES_H

/* Constants: a keyword, builtins, the generated module's own names. */
#define None 1
#define open 2
#define Prim 3
#define LIBRARY 4
#define Names 5   /* the proxy class of library "names": it keeps the name */
#define class_ 6  /* taken, so the enum item class becomes class__ */
#define NAMES_EVIL "\"\"\" + __import__(\"os\").system(\"touch PWNED\") + '''\\"
#define NAMES_HUGE 1e999  /* no Python literal: inf */

enum names_kind { lambda = 10, yield = 11, def = 12, def_ = 13, class = 14 };

/* A callback type named like an import of the generated module. */
typedef int (*Signature)(int self, int self_);

/* A struct named like the proxy's struct base class. */
struct Struct {
    int True;      /* a keyword */
    int _sandbox;  /* Struct's own slot */
    int layout;    /* a classmethod of Struct */
    int value;     /* free: kept */
};

struct view {
    int _address;  /* Struct's own slot: reading it recursed */
    int address;   /* a property of Struct */
    int False;
    int type;      /* a soft keyword in 3.12: a legal name, kept */
    int bytes;     /* a builtin the stubs use: kept, stubs write builtins.bytes */
    char property[4];
    int __init__;
    int snapshot;
    int Tainted;   /* a name the stubs' annotations use */
    struct Struct inner;
    int view;      /* the struct is struct_view (C has a tag namespace): kept */
};

/* Functions named like the proxy's own members, keywords and dunders. */
int alloc(int self, int self_);
int handles(int arg1, int);  /* the unnamed parameter is named apart from arg1: arg11 */
int callback(int type);
int view(int print);
int sandbox(void);
int helpers(void);
int _bind(int helpers);
int True(void);
int print(int lambda_);
int match(int _);
int __init__(int self);
int __len__(void);
int __secret(int v);
int names_fill(struct view *v);
int names_call(Signature cb, int a, int b);
const char *names_evil(void);

#endif
