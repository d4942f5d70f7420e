/* A TCP client that says where it comes from: connects to ADDR:PORT (argv[1], argv[2]),
 * prints its own address as getsockname reports it ("local ADDR"), sends that line to
 * the server, prints the server's one-line answer ("server says ..."), then prints the
 * nameserver lines of /etc/resolv.conf. Failures print the call and strerror and exit 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what) {
    printf("%s: %s\n", what, strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return fail("socket");
    if (connect(s, (struct sockaddr *)&to, sizeof to)) return fail("connect");
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    if (getsockname(s, (struct sockaddr *)&me, &len)) return fail("getsockname");
    char line[64];
    int n = snprintf(line, sizeof line, "local %s\n", inet_ntoa(me.sin_addr));
    fputs(line, stdout);
    if (write(s, line, n) != n) return fail("write");
    char answer[256];
    size_t got = 0;
    while (got < sizeof answer - 1) {
        ssize_t r = read(s, answer + got, sizeof answer - 1 - got);
        if (r < 0) return fail("read");
        if (r == 0) break;
        got += r;
        if (answer[got - 1] == '\n') break;
    }
    answer[got] = 0;
    printf("server says %s", answer);
    close(s);
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (!f) return fail("/etc/resolv.conf");
    char conf[256];
    while (fgets(conf, sizeof conf, f)) fputs(conf, stdout);
    fclose(f);
    return 0;
}
