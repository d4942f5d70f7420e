/* Counts the bytes and lines of stdin up to its end, then prints them. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    char buf[4096];
    long bytes = 0, lines = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        bytes += n;
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    printf("%ld bytes, %ld lines, last read %zd\n", bytes, lines, n);
    return 0;
}
