/* Waits for SIGINT. With the argument "handle", a handler counts it and the
 * program exits 3 after printing what interrupted its read; without, SIGINT's
 * default action ends it. Prints "ready" once it waits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_int(int sig) { got = sig; }

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "handle") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_int;
        sigaction(SIGINT, &sa, 0);
    }
    printf("ready\n");
    fflush(stdout);
    char c;
    ssize_t r = read(0, &c, 1);
    printf("read %zd %s, got signal %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "-", (int)got);
    return 3;
}
