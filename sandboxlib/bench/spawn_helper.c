/* The process-per-call baseline: a native process that does the same trivial work. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int a = argc > 1 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 0;
    printf("%d\n", a + b);
    return 0;
}
