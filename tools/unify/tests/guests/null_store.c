/* Writes through a pointer to an unmapped page, with no SIGSEGV handler. */
#include <stdio.h>

int main(void) {
    puts("before the fault");
    fflush(stdout);
    *(volatile int *)0x10 = 1;
    puts("after the fault");
    return 0;
}
