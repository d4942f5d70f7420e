/* signalfd: reading blocked signals as records, non-blocking and blocking reads,
 * poll readiness, changing the mask of an existing signalfd, and the errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *late_sender(void *arg) {
    (void)arg;
    usleep(50000);
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGRTMIN + 1, v);
    return 0;
}

static const char *err(int r) {
    if (r >= 0) return "ok";
    switch (errno) {
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    default: return "other";
    }
}

int main(void) {
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGUSR2);
    sigaddset(&m, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &m, 0);

    int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("signalfd: %s, cloexec %d\n", err(fd), (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    struct signalfd_siginfo si;
    ssize_t r = read(fd, &si, sizeof si);
    printf("read with nothing pending: %zd %s\n", r, err(r));
    char small[64];
    r = read(fd, small, sizeof small);
    printf("read into 64 bytes: %s\n", err(r));

    raise(SIGUSR1);
    kill(getpid(), SIGUSR2);
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, 0);
    printf("poll with two pending: %d, POLLIN %d\n", n, (p.revents & POLLIN) != 0);
    char buf[4 * sizeof si];
    r = read(fd, buf, sizeof buf);
    printf("read: %zd bytes = %zd records\n", r, r / (ssize_t)sizeof si);
    for (ssize_t i = 0; i < r / (ssize_t)sizeof si; i++) {
        struct signalfd_siginfo *s = (void *)(buf + i * sizeof si);
        printf("  signo %u code %d from self %d\n", s->ssi_signo, s->ssi_code, s->ssi_pid == (unsigned)getpid());
    }
    p.revents = 0;
    printf("poll after reading: %d\n", poll(&p, 1, 0));

    /* A blocking signalfd, read before the signal arrives. */
    int bfd = signalfd(-1, &m, 0);
    pthread_t t;
    pthread_create(&t, 0, late_sender, 0);
    r = read(bfd, &si, sizeof si);
    printf("blocking read: %zd, signo is SIGRTMIN+1 %d, int %d, code SI_QUEUE %d\n", r,
           si.ssi_signo == (unsigned)(SIGRTMIN + 1), si.ssi_int, si.ssi_code == SI_QUEUE);
    pthread_join(t, 0);

    /* A new mask on the same fd. */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    printf("new mask: %s\n", err(signalfd(fd, &only2, 0)) );
    raise(SIGUSR1);
    r = read(fd, &si, sizeof si);
    printf("SIGUSR1 outside the mask: %s\n", err(r));
    sigset_t pend;
    sigpending(&pend);
    printf("SIGUSR1 still pending: %d\n", sigismember(&pend, SIGUSR1));

    printf("signalfd on a pipe: %s\n", err(signalfd(0, &m, 0)));
    printf("bad flags: %s\n", err(signalfd(-1, &m, 0x1)));
    printf("bad size: %s\n", err((int)syscall(SYS_signalfd4, -1, &m, 4, 0)));
    return 0;
}
