/* Signal delivery through musl (its own sigaction wrapper and SA_RESTORER trampoline, its
 * raise, sigsuspend, sigtimedwait, pthread_kill): SA_SIGINFO contents for raise / kill,
 * the mask inside a handler, sigprocmask + sigpending, delivery on unblock, sigsuspend,
 * sigtimedwait, signal() (BSD semantics: SA_RESTART), SA_ONSTACK, a pthread_kill aimed at
 * one thread, and siglongjmp out of a handler. Prints results, never ids or addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ALT_SIZE (64 * 1024)

static volatile sig_atomic_t count, last_sig, last_code, pid_ok, uid_ok, on_alt, handler_tid;
static volatile unsigned long handler_mask;
static char *alt_lo;
static sigjmp_buf jb;
static volatile int jump_out;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* The first 64 signals of a set, as the kernel's 64-bit mask. */
static unsigned long bits(const sigset_t *s) {
    unsigned long m = 0;
    for (int i = 1; i <= 64; i++)
        if (sigismember(s, i) == 1) m |= 1ul << (i - 1);
    return m;
}

static unsigned long cur_mask(void) {
    sigset_t s;
    pthread_sigmask(SIG_BLOCK, 0, &s);
    return bits(&s);
}

static void names(const char *label, unsigned long m) {
    printf("%s [", label);
    const char *sep = "";
    for (int i = 1; i <= 64; i++) {
        if (!(m & (1ul << (i - 1)))) continue;
        const char *n = i == SIGUSR1 ? "SIGUSR1" : i == SIGUSR2 ? "SIGUSR2" : i == SIGTERM ? "SIGTERM"
                      : i == SIGINT  ? "SIGINT"  : i == SIGHUP  ? "SIGHUP"  : 0;
        if (n) printf("%s%s", sep, n);
        else printf("%ssig%d", sep, i);
        sep = ", ";
    }
    printf("]");
}

static const char *codename(int c) {
    switch (c) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_KERNEL: return "SI_KERNEL";
    default: return "code?";
    }
}

static void handler(int sig, siginfo_t *si, void *ctx) {
    (void)ctx;
    char local;
    last_sig = sig;
    last_code = si->si_code;
    pid_ok = si->si_pid == getpid();
    uid_ok = si->si_uid == getuid();
    handler_mask = cur_mask();
    handler_tid = gettid_();
    on_alt = alt_lo && &local >= alt_lo && &local < alt_lo + ALT_SIZE;
    count++;
    if (jump_out) siglongjmp(jb, sig);
}

static void install(int sig, int flags, const int *mask_sigs) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    for (; mask_sigs && *mask_sigs; mask_sigs++) sigaddset(&sa.sa_mask, *mask_sigs);
    if (sigaction(sig, &sa, 0)) {
        perror("sigaction");
        exit(1);
    }
}

static void report(const char *how, int ret) {
    printf("%s: %d, ran %d, sig %d, %s, si_pid is getpid: %d, si_uid is getuid: %d\n", how, ret, (int)count,
           (int)last_sig, codename(last_code), (int)pid_ok, (int)uid_ok);
}

static void delivery(void) {
    printf("== SA_SIGINFO\n");
    install(SIGUSR1, 0, 0);
    count = 0;
    report("raise", raise(SIGUSR1));
    count = 0;
    report("kill(getpid)", kill(getpid(), SIGUSR1));
    count = 0;
    report("sigqueue", sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 5}));

    int extra[] = {SIGUSR2, 0};
    install(SIGUSR1, 0, extra);
    count = 0;
    raise(SIGUSR1);
    names("mask in the handler (sa_mask [SIGUSR2]):", handler_mask);
    names(", after:", cur_mask());
    printf("\n");

    struct sigaction old;
    sigaction(SIGUSR1, 0, &old);
    printf("read back: SA_SIGINFO %d, SA_RESTORER (added by musl) %d, sa_mask has SIGUSR2: %d\n",
           !!(old.sa_flags & SA_SIGINFO), !!(old.sa_flags & 0x04000000), sigismember(&old.sa_mask, SIGUSR2));
}

static void masks(void) {
    printf("== sigprocmask, sigpending\n");
    install(SIGUSR1, 0, 0);
    install(SIGUSR2, 0, 0);
    sigset_t s, p;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, 0);
    count = 0;
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    sigpending(&p);
    printf("blocked, kill USR1 twice and USR2: ran %d, ", (int)count);
    names("pending", bits(&p));
    printf("\n");
    sigprocmask(SIG_UNBLOCK, &s, 0);
    sigpending(&p);
    printf("unblocked: ran %d (USR1 once), ", (int)count);
    names("pending", bits(&p));
    printf("\n");
    /* raise is aimed at the thread, kill at the process: two pending sets, one each. */
    sigprocmask(SIG_BLOCK, &s, 0);
    count = 0;
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigpending(&p);
    printf("blocked, raise USR1 and kill USR1: ");
    names("pending", bits(&p));
    sigprocmask(SIG_UNBLOCK, &s, 0);
    printf(", unblocked: ran %d (once per pending set)\n", (int)count);

    printf("== sigsuspend, sigtimedwait\n");
    sigprocmask(SIG_BLOCK, &s, 0);
    count = 0;
    raise(SIGUSR1);
    sigset_t none;
    sigemptyset(&none);
    int r = sigsuspend(&none);
    printf("sigsuspend with USR1 pending: %d %s, ran %d, ", r, errno == EINTR ? "EINTR" : "?", (int)count);
    names("mask after", cur_mask());
    printf("\n");

    siginfo_t si;
    struct timespec zero = {0, 0};
    kill(getpid(), SIGUSR2);
    r = sigtimedwait(&s, &si, &zero);
    printf("sigtimedwait: %d, si_signo %d, %s, handler ran %d\n", r, si.si_signo, codename(si.si_code), (int)count);
    struct timespec t = {0, 20 * 1000 * 1000};
    r = sigtimedwait(&s, &si, &t);
    printf("sigtimedwait, nothing pending, 20 ms: %d %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");
    sigprocmask(SIG_UNBLOCK, &s, 0);
}

static void signal_fn(void) {
    printf("== signal()\n");
    signal(SIGUSR2, (void (*)(int))(void *)handler);
    struct sigaction old;
    sigaction(SIGUSR2, 0, &old);
    printf("signal(): SA_RESTART %d, SA_SIGINFO %d\n", !!(old.sa_flags & SA_RESTART), !!(old.sa_flags & SA_SIGINFO));
    signal(SIGUSR2, SIG_DFL);
}

static void altstack(void) {
    printf("== SA_ONSTACK\n");
    alt_lo = mmap(0, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss = {.ss_sp = alt_lo, .ss_size = ALT_SIZE, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, 0));
    install(SIGUSR1, SA_ONSTACK, 0);
    count = 0;
    raise(SIGUSR1);
    printf("SA_ONSTACK: ran %d, on the alt stack: %d\n", (int)count, (int)on_alt);
    install(SIGUSR1, 0, 0);
    raise(SIGUSR1);
    printf("without: on the alt stack: %d\n", (int)on_alt);
}

static volatile pid_t target_tid;
static volatile int stop;

static void *target(void *arg) {
    (void)arg;
    target_tid = gettid_();
    while (!stop) usleep(1000);
    return 0;
}

static void threads(void) {
    printf("== pthread_kill\n");
    install(SIGUSR1, 0, 0);
    pthread_t t;
    pthread_create(&t, 0, target, 0);
    while (!target_tid) usleep(1000);
    count = 0;
    int r = pthread_kill(t, SIGUSR1);
    for (int i = 0; i < 5000 && !count; i++) usleep(1000);
    printf("pthread_kill: %d, ran %d, %s, on the target thread: %d\n", r, (int)count, codename(last_code),
           handler_tid == target_tid);
    stop = 1;
    pthread_join(t, 0);
}

static void longjmp_out(void) {
    printf("== siglongjmp out of a handler\n");
    install(SIGUSR1, 0, 0);
    jump_out = 1;
    int s = sigsetjmp(jb, 1);
    if (s == 0) {
        raise(SIGUSR1);
        printf("not reached\n");
    }
    jump_out = 0;
    printf("came back with %d; ", s);
    names("mask restored by siglongjmp:", cur_mask());
    printf("\n");
    s = sigsetjmp(jb, 0);
    if (s == 0) {
        jump_out = 1;
        raise(SIGUSR1);
    }
    jump_out = 0;
    names("with sigsetjmp(env, 0) the handler's mask stays:", cur_mask());
    printf("\n");
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, 0);
}

int main(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    setvbuf(stdout, 0, _IOLBF, 0);
    delivery();
    masks();
    signal_fn();
    altstack();
    threads();
    longjmp_out();
    printf("== done\n");
    return 0;
}
