/* Hardware faults become the signals Linux sends, with its si_code and si_addr, delivered
 * to a handler on the alternate stack (musl: SA_SIGINFO, sigsetjmp/siglongjmp out of it).
 *
 * No argument: every fault with handlers installed, one line each: null read/write/call,
 * an unmapped page, PROT_NONE, writes to read-only data and to the text, executing a
 * non-executable page, a non-canonical and a kernel-half address, hlt (#GP), a truncated
 * MAP_SHARED file (SIGBUS), integer division by zero and INT_MIN / -1 (SIGFPE), ud2
 * (SIGILL), int3 (SIGTRAP), a handler that mprotects the page and returns (the access is
 * retried and succeeds), and a stack overflow in a thread (guard page, the thread's own
 * alternate stack).
 *
 * With an argument, no handler (or one that cannot help): the process dies by the
 * signal: null, null_blocked, null_ignored, bus, fpe, ill, abort, abort_handled,
 * segv_thread. The file for SIGBUS is created in the working directory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGE 4096
#define ALT_SIZE (64 * 1024)

struct result {
    int sig, signo, code, err;
    uintptr_t addr, rip;
    int on_alt, ss_flags, tid_ok;
};

static volatile struct result res;
static __thread sigjmp_buf *jump;
static __thread char *alt_lo;
static __thread pid_t my_tid;
static volatile int fix_mode, fixed;
static char *volatile fix_page;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    char local;
    stack_t ss;
    if (fix_mode && sig == SIGSEGV && ((uintptr_t)si->si_addr & ~(uintptr_t)(PAGE - 1)) == (uintptr_t)fix_page) {
        mprotect(fix_page, PAGE, PROT_READ | PROT_WRITE);
        fixed++;
        return;
    }
    res.sig = sig;
    res.signo = si->si_signo;
    res.code = si->si_code;
    res.err = si->si_errno;
    res.addr = (uintptr_t)si->si_addr;
    res.rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    res.on_alt = alt_lo && &local >= alt_lo && &local < alt_lo + ALT_SIZE;
    sigaltstack(0, &ss);
    res.ss_flags = ss.ss_flags;
    res.tid_ok = gettid_() == my_tid;
    siglongjmp(*jump, 1);
}

static const char *signame(int s) {
    switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    default: return "sig?";
    }
}

static const char *codename(int sig, int code) {
    if (code == SI_KERNEL) return "SI_KERNEL";
    if (code == SI_USER) return "SI_USER";
    if (code == SI_TKILL) return "SI_TKILL";
    switch (sig) {
    case SIGSEGV:
        switch (code) {
        case SEGV_MAPERR: return "SEGV_MAPERR";
        case SEGV_ACCERR: return "SEGV_ACCERR";
        }
        break;
    case SIGBUS:
        switch (code) {
        case BUS_ADRALN: return "BUS_ADRALN";
        case BUS_ADRERR: return "BUS_ADRERR";
        case BUS_OBJERR: return "BUS_OBJERR";
        }
        break;
    case SIGFPE:
        switch (code) {
        case FPE_INTDIV: return "FPE_INTDIV";
        case FPE_INTOVF: return "FPE_INTOVF";
        }
        break;
    case SIGILL:
        switch (code) {
        case ILL_ILLOPC: return "ILL_ILLOPC";
        case ILL_ILLOPN: return "ILL_ILLOPN";
        }
        break;
    case SIGTRAP:
        switch (code) {
        case TRAP_BRKPT: return "TRAP_BRKPT";
        }
        break;
    }
    return "code?";
}

static void install(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, 0)) {
            perror("sigaction");
            exit(1);
        }
}

static void set_altstack(void) {
    stack_t ss;
    alt_lo = mmap(0, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (alt_lo == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    ss.ss_sp = alt_lo;
    ss.ss_size = ALT_SIZE;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, 0)) {
        perror("sigaltstack");
        exit(1);
    }
    my_tid = gettid_();
}

/* Opaque values, so the compiler cannot see (and turn into a trap) what each fault does. */
static int *volatile null_int;
static void (*volatile null_fn)(void);
static volatile int zero_div;
static volatile int int_min = INT_MIN, minus_one = -1;
static volatile uintptr_t noncanonical = 0x8000000000000000ull;
static volatile uintptr_t kernel_half = 0xffff800000001000ull;
static const char rodata[] = "read-only data";
static const char *volatile rodata_p = rodata;
static volatile uintptr_t target;
static volatile int sink;

__attribute__((noinline)) static int victim(int x) { return x * 3 + 1; }

static void f_null_read(void) { sink = *null_int; }
static void f_null_write(void) { *null_int = 1; }
static void f_null_offset(void) { sink = null_int[0x100]; }
static void f_null_call(void) { null_fn(); }
static void f_read(void) { sink = *(volatile int *)target; }
static void f_write(void) { *(volatile int *)target = 1; }
static void f_write_byte(void) { *(volatile char *)target = 'x'; }
static void f_exec(void) { ((void (*)(void))target)(); }
static void f_noncanonical(void) { sink = *(volatile int *)noncanonical; }
static void f_kernel(void) { sink = *(volatile int *)kernel_half; }
static void f_hlt(void) { __asm__ volatile("hlt"); }
static void f_div0(void) { sink = 7 / zero_div; }
static void f_divovf(void) { sink = int_min / minus_one; }
static void f_ud2(void) { __builtin_trap(); }
static void f_int3(void) { __asm__ volatile("int3"); }

enum addr_check { ADDR_NONE, ADDR_TARGET, ADDR_RIP, ADDR_ZERO };

static void run(const char *name, void (*fn)(void), enum addr_check chk) {
    sigjmp_buf jb;
    memset((void *)&res, 0, sizeof res);
    jump = &jb;
    if (sigsetjmp(jb, 1) == 0) {
        fn();
        printf("%s: no signal\n", name);
        return;
    }
    printf("%s: %s %s, si_signo matches: %d, si_errno %d", name, signame(res.sig), codename(res.sig, res.code),
           res.signo == res.sig, res.err);
    switch (chk) {
    case ADDR_NONE: break;
    case ADDR_TARGET: printf(", si_addr is the address: %d", res.addr == target); break;
    case ADDR_RIP: printf(", si_addr is the faulting instruction: %d", res.addr == res.rip); break;
    case ADDR_ZERO: printf(", si_addr is 0: %d", res.addr == 0); break;
    }
    printf(", on the alt stack: %d, ss_flags %d\n", res.on_alt, res.ss_flags);
}

static void *map(int prot) {
    void *p = mmap(0, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

static void sigbus_file(void) {
    const char *path = "faults_musl.bus";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 2 * PAGE)) {
        perror(path);
        exit(1);
    }
    char *m = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        perror("mmap file");
        exit(1);
    }
    m[0] = 'a';
    m[PAGE] = 'b';
    if (ftruncate(fd, 100)) {
        perror("ftruncate");
        exit(1);
    }
    printf("file truncated to 100 bytes: byte 0 %c, byte 200 (same page, past EOF) %d\n", m[0], m[200]);
    target = (uintptr_t)(m + PAGE + 8);
    run("read of the page past EOF", f_read, ADDR_TARGET);
    munmap(m, 2 * PAGE);
    close(fd);
    unlink(path);
}

/* A stack overflow in a thread with a small stack: the guard page below it. */
static volatile int never = -1;
static int recurse(int n) {
    volatile char frame[256];
    if (n == never) return 0;
    frame[0] = (char)n;
    return recurse(n + 1) + frame[0];
}
static void f_recurse(void) { sink = recurse(0); }

static void *overflow_thread(void *arg) {
    (void)arg;
    set_altstack();
    run("stack overflow in a thread", f_recurse, ADDR_NONE);
    printf("  handled in the overflowing thread: %d\n", res.tid_ok);
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, 0);
    return 0;
}

static void with_handlers(void) {
    set_altstack();
    install(SA_ONSTACK);

    printf("== SIGSEGV\n");
    run("null read", f_null_read, ADDR_ZERO);
    run("null write", f_null_write, ADDR_ZERO);
    target = 0x400;
    run("read of NULL + 0x400", f_null_offset, ADDR_TARGET);
    run("call through a NULL function pointer", f_null_call, ADDR_ZERO);
    printf("  rip is 0: %d\n", res.rip == 0);

    char *p = map(PROT_READ | PROT_WRITE);
    munmap(p, PAGE);
    target = (uintptr_t)p + 8;
    run("read of an unmapped page", f_read, ADDR_TARGET);
    target = (uintptr_t)map(PROT_NONE) + 16;
    run("read of a PROT_NONE page", f_read, ADDR_TARGET);
    target = (uintptr_t)map(PROT_READ) + 24;
    run("write to a PROT_READ page", f_write, ADDR_TARGET);
    target = (uintptr_t)rodata_p;
    run("write to a string literal", f_write_byte, ADDR_TARGET);
    target = (uintptr_t)&victim;
    run("write to the text", f_write_byte, ADDR_TARGET);
    char *rw = map(PROT_READ | PROT_WRITE);
    rw[0] = (char)0xc3; /* ret */
    target = (uintptr_t)rw;
    run("call into a non-executable page", f_exec, ADDR_TARGET);
    printf("  rip is the page: %d\n", res.rip == target);
    run("read of a non-canonical address", f_noncanonical, ADDR_ZERO);
    target = kernel_half;
    run("read of a kernel-half address", f_kernel, ADDR_TARGET);
    run("hlt", f_hlt, ADDR_ZERO);

    sigset_t now;
    sigprocmask(SIG_BLOCK, 0, &now);
    printf("after siglongjmp: SIGSEGV blocked: %d\n", sigismember(&now, SIGSEGV));

    printf("== SIGBUS\n");
    sigbus_file();

    printf("== SIGFPE, SIGILL, SIGTRAP\n");
    run("7 / 0", f_div0, ADDR_RIP);
    run("INT_MIN / -1", f_divovf, ADDR_RIP);
    run("__builtin_trap (ud2)", f_ud2, ADDR_RIP);
    run("int3", f_int3, ADDR_ZERO);

    printf("== a handler that fixes the page and returns\n");
    fix_page = map(PROT_NONE);
    fix_mode = 1;
    fix_page[5] = 42;
    fix_mode = 0;
    printf("write to a PROT_NONE page: handler ran %d time(s), value read back %d\n", fixed, fix_page[5]);

    printf("== without SA_ONSTACK\n");
    install(0);
    run("null read", f_null_read, ADDR_ZERO);
    install(SA_ONSTACK);

    printf("== threads\n");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    pthread_t t;
    if (pthread_create(&t, &attr, overflow_thread, 0)) {
        printf("pthread_create failed\n");
        exit(1);
    }
    pthread_join(t, 0);
}

static void *segv_thread(void *arg) {
    (void)arg;
    sink = *null_int;
    return 0;
}

static void abrt_handler(int sig) {
    (void)sig;
    static const char msg[] = "SIGABRT handler ran and returns\n";
    write(1, msg, sizeof msg - 1);
}

static void die(const char *how) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    printf("%s: the process dies by a signal\n", how);
    fflush(stdout);
    if (!strcmp(how, "null")) {
        sink = *null_int;
    } else if (!strcmp(how, "null_blocked")) {
        /* A fault while its signal is blocked: Linux unblocks it and resets the handler. */
        install(0);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSEGV);
        sigprocmask(SIG_BLOCK, &s, 0);
        sink = *null_int;
    } else if (!strcmp(how, "null_ignored")) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGSEGV, &sa, 0);
        sink = *null_int;
    } else if (!strcmp(how, "bus")) {
        sigbus_file();
    } else if (!strcmp(how, "fpe")) {
        sink = 7 / zero_div;
    } else if (!strcmp(how, "ill")) {
        __builtin_trap();
    } else if (!strcmp(how, "abort")) {
        abort();
    } else if (!strcmp(how, "abort_handled")) {
        sa.sa_handler = abrt_handler;
        sigaction(SIGABRT, &sa, 0);
        abort();
    } else if (!strcmp(how, "segv_thread")) {
        pthread_t t;
        pthread_create(&t, 0, segv_thread, 0);
        pthread_join(t, 0);
    } else {
        fprintf(stderr, "unknown argument %s\n", how);
        exit(2);
    }
    printf("still alive\n");
}

int main(int argc, char **argv) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    setvbuf(stdout, 0, _IOLBF, 0);
    if (argc > 1)
        die(argv[1]);
    else
        with_handlers();
    printf("== done\n");
    return 0;
}
