/* Smallest musl probe: stdio to stdout and stderr, then exit status 7.
 * musl's stdio exercises ioctl(TIOCGWINSZ) on stdout and writev. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("hello from musl\n");
    printf("formatted: %d %s %.3f\n", 42, "str", 2.5);
    fprintf(stderr, "hello on stderr from musl\n");
    fflush(stdout);
    puts("puts line");
    printf("last line without newline");
    exit(7);
}
