/* A TCP echo server on 0.0.0.0:PORT (argv[1]), one client at a time, that prints
 * "listening" when ready and, once SIGINT ends its blocking accept or read (no
 * SA_RESTART: EINTR), "interrupted in accept" or "interrupted in read" and exits 0.
 * Before that it prints the port its listening socket reports (getsockname) and, for
 * each client, whether the peer is on the loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_int(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_int;
    sigaction(SIGINT, &sa, 0);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[1]));
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 8)) {
        printf("bind: %s\n", strerror(errno));
        return 1;
    }
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &len);
    printf("listening, getsockname says port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int c = accept(l, (struct sockaddr *)&peer, &plen);
        if (c < 0) {
            printf("interrupted in accept: %s, stop %d\n", errno == EINTR ? "EINTR" : strerror(errno), (int)stop);
            return 0;
        }
        printf("client from loopback: %d\n", ntohl(peer.sin_addr.s_addr) >> 24 == 127);
        fflush(stdout);
        char buf[256];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0) write(c, buf, n);
        if (n < 0) {
            printf("interrupted in read: %s, stop %d\n", errno == EINTR ? "EINTR" : strerror(errno), (int)stop);
            return 0;
        }
        close(c);
    }
}
