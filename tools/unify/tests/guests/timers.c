/* Timers without signal handlers (their signals are blocked and taken with
 * sigtimedwait, or kill the process): what tests/timers.rs runs natively and under
 * unify and compares. Prints properties only, never times.
 *
 *   timers          errors, ids, values, SI_TIMER/SI_KERNEL siginfo, overruns, stale
 *                   and deleted timers' signals, alarm's rounding, CPU-time timers
 *   timers die      ITIMER_REAL of 200 ms with SIGALRM's default action: killed by 14
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct ksigevent {
    long value;
    int signo;
    int notify;
    int tid;
    int pad[11];
};

static long sc(long n, long a, long b, long c, long d) {
    long r = syscall(n, a, b, c, d);
    return r < 0 ? -errno : r;
}

static int create(int clock, struct ksigevent *ev) {
    int id = -1;
    long r = sc(SYS_timer_create, clock, (long)ev, (long)&id, 0);
    return r < 0 ? (int)r : id;
}

static long settime(int id, int flags, long value_ns, long interval_ns) {
    struct itimerspec its = {{interval_ns / 1000000000, interval_ns % 1000000000},
                             {value_ns / 1000000000, value_ns % 1000000000}};
    return sc(SYS_timer_settime, id, flags, (long)&its, 0);
}

static long ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

static long now(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return ns(t);
}

static void nap(long n) {
    struct timespec t = {n / 1000000000, n % 1000000000};
    while (nanosleep(&t, &t)) {
    }
}

/* Waits (at most 5 s) until `sig` is pending. */
static int pending_soon(int sig) {
    for (int i = 0; i < 5000; i++) {
        sigset_t p;
        sigpending(&p);
        if (sigismember(&p, sig)) return 1;
        nap(1000000);
    }
    return 0;
}

static int take(int sig, siginfo_t *si) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec zero = {0, 0};
    memset(si, 0, sizeof *si);
    return sigtimedwait(&s, si, &zero);
}

static void errors(void) {
    struct ksigevent ev = {0};
    int id;
    int a = create(CLOCK_MONOTONIC, 0), b = create(CLOCK_REALTIME, 0), c = create(CLOCK_BOOTTIME, 0);
    printf("ids: %d %d %d", a, b, c);
    sc(SYS_timer_delete, 1, 0, 0, 0);
    printf(" after deleting 1: %d\n", create(CLOCK_MONOTONIC, 0));
    printf("clocks: raw %d coarse %d alarm %d tai ok %d cpu ok %d bad %d\n", create(CLOCK_MONOTONIC_RAW, 0),
           create(CLOCK_REALTIME_COARSE, 0), create(CLOCK_REALTIME_ALARM, 0), create(CLOCK_TAI, 0) >= 0,
           create(CLOCK_PROCESS_CPUTIME_ID, 0) >= 0, create(12, 0));
    ev.notify = 99;
    printf("sigevent: notify 99 %d", create(CLOCK_MONOTONIC, &ev));
    ev.notify = SIGEV_SIGNAL;
    ev.signo = 65;
    printf(" signo 65 %d", create(CLOCK_MONOTONIC, &ev));
    ev.notify = SIGEV_THREAD_ID;
    ev.signo = SIGUSR1;
    ev.tid = 1;
    printf(" tid 1 %d", create(CLOCK_MONOTONIC, &ev));
    ev.tid = (int)syscall(SYS_gettid);
    printf(" own tid ok %d", create(CLOCK_MONOTONIC, &ev) >= 0);
    ev.notify = SIGEV_NONE;
    ev.signo = 1000;
    printf(" none ok %d\n", create(CLOCK_MONOTONIC, &ev) >= 0);
    printf("efault: sigevent %ld id %ld\n", sc(SYS_timer_create, 1, 8, (long)&id, 0), sc(SYS_timer_create, 1, 0, 8, 0));
    printf("next id after the failures: %d\n", create(CLOCK_MONOTONIC, 0));
    struct itimerspec its = {{0, 0}, {0, 1000000000}}, old = {{0, 0}, {0, 0}};
    printf("settime: NULL %ld bad id %ld nsec 1e9 %ld efault new %ld efault old %ld\n",
           sc(SYS_timer_settime, 0, 0, 0, 0), settime(1000, 0, 1, 0), sc(SYS_timer_settime, 0, 0, (long)&its, 0),
           sc(SYS_timer_settime, 0, 0, 8, 0), settime(0, 0, 0, 0) ? -1 : sc(SYS_timer_settime, 0, 0, (long)&old, 8));
    printf("gettime: bad id %ld efault %ld; getoverrun bad %ld; delete bad %ld\n",
           sc(SYS_timer_gettime, -1, (long)&old, 0, 0), sc(SYS_timer_gettime, 0, 8, 0, 0),
           sc(SYS_timer_getoverrun, 1000, 0, 0, 0), sc(SYS_timer_delete, 1000, 0, 0, 0));
    struct itimerval iv = {{0, 0}, {0, 1000000}};
    printf("setitimer: usec 1e6 %ld which 3 %ld efault %ld NULL %ld; getitimer which 3 %ld efault %ld\n",
           sc(SYS_setitimer, 0, (long)&iv, 0, 0), sc(SYS_setitimer, 3, (long)&(struct itimerval){0}, 0, 0),
           sc(SYS_setitimer, 0, 8, 0, 0), sc(SYS_setitimer, 0, 0, 0, 0), sc(SYS_getitimer, 3, (long)&iv, 0, 0),
           sc(SYS_getitimer, 0, 8, 0, 0));
}

static void values(void) {
    struct ksigevent ev = {0};
    ev.notify = SIGEV_NONE;
    int id = create(CLOCK_MONOTONIC, &ev);
    struct itimerspec cur;
    settime(id, 0, 5000000000L, 250000000L);
    sc(SYS_timer_gettime, id, (long)&cur, 0, 0);
    printf("armed 5 s / 0.25 s: 4 s < left <= 5 s %d, interval %ld\n",
           ns(cur.it_value) > 4000000000L && ns(cur.it_value) <= 5000000000L, ns(cur.it_interval));
    settime(id, TIMER_ABSTIME, now(CLOCK_MONOTONIC) + 3000000000L, 0);
    sc(SYS_timer_gettime, id, (long)&cur, 0, 0);
    printf("absolute +3 s: 2 s < left <= 3 s %d\n", ns(cur.it_value) > 2000000000L && ns(cur.it_value) <= 3000000000L);
    settime(id, 0, 0, 7);
    sc(SYS_timer_gettime, id, (long)&cur, 0, 0);
    /* Linux reads a disarmed SIGEV_NONE timer's old expiry all the same. */
    printf("disarmed SIGEV_NONE: shows the old time left %d, interval %ld\n",
           ns(cur.it_value) > 2000000000L && ns(cur.it_value) <= 3000000000L, ns(cur.it_interval));
    settime(id, 0, 1000, 300000);
    nap(5000000);
    sc(SYS_timer_gettime, id, (long)&cur, 0, 0);
    printf("SIGEV_NONE periodic after 5 ms: 0 < left <= interval %d\n",
           ns(cur.it_value) > 0 && ns(cur.it_value) <= 300000);
    settime(id, 0, 1000, 0);
    nap(2000000);
    sc(SYS_timer_gettime, id, (long)&cur, 0, 0);
    printf("SIGEV_NONE one-shot expired: %ld\n", ns(cur.it_value));
    sc(SYS_timer_delete, id, 0, 0, 0);
}

static void signals(void) {
    siginfo_t si;
    struct ksigevent ev = {0};
    ev.notify = SIGEV_SIGNAL;
    ev.signo = SIGRTMIN;
    ev.value = 0x1122334455667788L;
    int id = create(CLOCK_MONOTONIC, &ev);
    settime(id, 0, 1000000, 1000000);
    int p = pending_soon(SIGRTMIN);
    struct itimerspec cur;
    sc(SYS_timer_gettime, id, (long)&cur, 0, 0);
    printf("periodic 1 ms, blocked: pending %d, 0 < left <= 1 ms %d, getoverrun before %ld\n", p,
           ns(cur.it_value) > 0 && ns(cur.it_value) <= 1000000, sc(SYS_timer_getoverrun, id, 0, 0, 0));
    nap(20000000);
    int r = take(SIGRTMIN, &si);
    printf("taken: %s, code SI_TIMER %d, value ok %d, timerid ok %d, overrun >= 15 %d, getoverrun = it %d\n",
           r == SIGRTMIN ? "SIGRTMIN" : "?", si.si_code == SI_TIMER, si.si_value.sival_ptr == (void *)ev.value,
           si.si_timerid == id, si.si_overrun >= 15, sc(SYS_timer_getoverrun, id, 0, 0, 0) == si.si_overrun);
    pending_soon(SIGRTMIN);
    settime(id, 0, 100000000000L, 0);
    sigset_t ps;
    sigpending(&ps);
    printf("re-armed while pending: still pending %d, taken %d\n", sigismember(&ps, SIGRTMIN), take(SIGRTMIN, &si));
    settime(id, 0, 1000, 0);
    pending_soon(SIGRTMIN);
    sc(SYS_timer_delete, id, 0, 0, 0);
    sigpending(&ps);
    printf("deleted while pending: still pending %d\n", sigismember(&ps, SIGRTMIN));

    /* The NULL sigevent: SIGALRM to the process, value = the id. */
    id = create(CLOCK_REALTIME, 0);
    settime(id, TIMER_ABSTIME, now(CLOCK_REALTIME) + 2000000, 0);
    pending_soon(SIGALRM);
    r = take(SIGALRM, &si);
    printf("NULL sigevent, absolute realtime: %s SI_TIMER %d value = id %d overrun %d\n",
           r == SIGALRM ? "SIGALRM" : "?", si.si_code == SI_TIMER, si.si_value.sival_int == id, si.si_overrun);
    sc(SYS_timer_delete, id, 0, 0, 0);

    /* To this thread. */
    ev.notify = SIGEV_THREAD_ID;
    ev.signo = SIGUSR1;
    ev.tid = (int)syscall(SYS_gettid);
    id = create(CLOCK_BOOTTIME, &ev);
    settime(id, 0, 1000000, 0);
    pending_soon(SIGUSR1);
    r = take(SIGUSR1, &si);
    printf("SIGEV_THREAD_ID: %s SI_TIMER %d\n", r == SIGUSR1 ? "SIGUSR1" : "?", si.si_code == SI_TIMER);
    sc(SYS_timer_delete, id, 0, 0, 0);
}

static void itimers(void) {
    siginfo_t si;
    struct itimerval iv = {{0, 7}, {2, 500}}, cur;
    sc(SYS_setitimer, ITIMER_REAL, (long)&iv, 0, 0);
    sc(SYS_getitimer, ITIMER_REAL, (long)&cur, 0, 0);
    printf("itimer 2.0005 s / 7 us: 1 s < left %d, interval %ld us\n", cur.it_value.tv_sec >= 1,
           cur.it_interval.tv_usec);
    printf("alarm(5) returns %ld, alarm(0) returns %ld\n", sc(SYS_alarm, 5, 0, 0, 0), sc(SYS_alarm, 0, 0, 0, 0));
    struct itimerval short_ = {{0, 0}, {0, 400000}};
    sc(SYS_setitimer, ITIMER_REAL, (long)&short_, 0, 0);
    printf("alarm after 0.4 s returns %ld", sc(SYS_alarm, 0, 0, 0, 0));
    short_.it_value = (struct timeval){1, 600000};
    sc(SYS_setitimer, ITIMER_REAL, (long)&short_, 0, 0);
    printf(", after 1.6 s %ld\n", sc(SYS_alarm, 0, 0, 0, 0));
    struct itimerval periodic = {{0, 1000}, {0, 1000}};
    sc(SYS_setitimer, ITIMER_REAL, (long)&periodic, 0, 0);
    int p = pending_soon(SIGALRM);
    nap(5000000);
    sc(SYS_getitimer, ITIMER_REAL, (long)&cur, 0, 0);
    printf("periodic itimer fired: %d, left while SIGALRM pending %ld.%06ld\n", p, cur.it_value.tv_sec,
           cur.it_value.tv_usec);
    int r = take(SIGALRM, &si);
    sc(SYS_getitimer, ITIMER_REAL, (long)&cur, 0, 0);
    printf("taken: %s SI_KERNEL %d; running again %d\n", r == SIGALRM ? "SIGALRM" : "?", si.si_code == SI_KERNEL,
           cur.it_value.tv_usec > 0);
    sc(SYS_setitimer, ITIMER_REAL, 0, 0, 0);
    take(SIGALRM, &si);
}

static void cpu_timers(void) {
    siginfo_t si;
    struct itimerval iv = {{0, 0}, {0, 20000}};
    sc(SYS_setitimer, ITIMER_PROF, (long)&iv, 0, 0);
    sc(SYS_setitimer, ITIMER_VIRTUAL, (long)&iv, 0, 0);
    struct ksigevent ev = {0};
    ev.notify = SIGEV_SIGNAL;
    ev.signo = SIGRTMIN + 1;
    int id = create(CLOCK_PROCESS_CPUTIME_ID, &ev);
    settime(id, 0, 30000000, 0);
    long start = now(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned long x = 0;
    while (now(CLOCK_PROCESS_CPUTIME_ID) - start < 300000000L) {
        for (int i = 0; i < 100000; i++) x += i;
    }
    int prof = pending_soon(SIGPROF) && take(SIGPROF, &si) == SIGPROF && si.si_code == SI_KERNEL;
    int virt = pending_soon(SIGVTALRM) && take(SIGVTALRM, &si) == SIGVTALRM && si.si_code == SI_KERNEL;
    int cpu = pending_soon(SIGRTMIN + 1) && take(SIGRTMIN + 1, &si) == SIGRTMIN + 1 && si.si_code == SI_TIMER;
    printf("after 300 ms of CPU: SIGPROF %d SIGVTALRM %d CPU-time POSIX timer %d\n", prof, virt, cpu);
    sc(SYS_timer_delete, id, 0, 0, 0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "die") == 0) {
        struct itimerval iv = {{0, 0}, {0, 200000}};
        setitimer(ITIMER_REAL, &iv, 0);
        printf("armed\n");
        nap(5000000000L);
        printf("still alive\n");
        return 0;
    }
    sigset_t s;
    sigfillset(&s);
    sigprocmask(SIG_BLOCK, &s, 0);
    errors();
    values();
    signals();
    itimers();
    cpu_timers();
    return 0;
}
