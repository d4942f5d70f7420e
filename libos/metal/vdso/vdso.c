/*
 * unify-kernel's vDSO: the clock reads a guest makes most often (Rust's Instant::now,
 * tokio's timers, every log line's timestamp), answered in the guest's own code
 * without a syscall, as Linux's vDSO answers them. The kernel maps it above the
 * initial stack and names it in AT_SYSINFO_EHDR; musl and glibc look the functions up
 * by name and version (LINUX_2.6).
 *
 * The clocks are the kernel's (src/clock.rs): nanoseconds since boot are
 * (TSC - tsc_zero) * mult >> shift, added to the monotonic or the realtime clock's
 * value at boot. The kernel writes those in the data page just below this image
 * (vdso.lds: vvar_page) once, at boot, and never changes them: no sequence counter.
 * A clock this file does not know goes to the syscall, as Linux's vDSO does.
 */

#include <stdint.h>

struct vdso_clock {
	uint64_t tsc_zero;
	uint64_t mult;
	uint64_t shift;
	uint64_t monotonic_at_zero;
	uint64_t realtime_at_zero;
};

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };
struct timezone_k { int tz_minuteswest; int tz_dsttime; };

extern const struct vdso_clock vvar_page __attribute__((visibility("hidden")));

#define SYS_clock_gettime 228
#define SYS_gettimeofday 96

static long syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile ("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static uint64_t since_boot(void)
{
	const volatile struct vdso_clock *c = &vvar_page;
	uint32_t lo, hi;
	__asm__ volatile ("rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t tsc = ((uint64_t)hi << 32) | lo;
	uint64_t ticks = tsc > c->tsc_zero ? tsc - c->tsc_zero : 0;
	return (uint64_t)(((unsigned __int128)ticks * c->mult) >> c->shift);
}

static uint64_t realtime_ns(void)
{
	return vvar_page.realtime_at_zero + since_boot();
}

static uint64_t monotonic_ns(void)
{
	return vvar_page.monotonic_at_zero + since_boot();
}

int __vdso_clock_gettime(int clock, struct timespec_k *ts)
{
	uint64_t ns;
	switch (clock) {
	case 0:  /* CLOCK_REALTIME */
	case 5:  /* CLOCK_REALTIME_COARSE */
	case 11: /* CLOCK_TAI */
		ns = realtime_ns();
		break;
	case 1:  /* CLOCK_MONOTONIC */
	case 4:  /* CLOCK_MONOTONIC_RAW */
	case 6:  /* CLOCK_MONOTONIC_COARSE */
	case 7:  /* CLOCK_BOOTTIME */
		ns = monotonic_ns();
		break;
	default:
		return (int)syscall2(SYS_clock_gettime, clock, (long)ts);
	}
	ts->tv_sec = (int64_t)(ns / 1000000000u);
	ts->tv_nsec = (int64_t)(ns % 1000000000u);
	return 0;
}

int __vdso_gettimeofday(struct timeval_k *tv, struct timezone_k *tz)
{
	if (tv) {
		uint64_t ns = realtime_ns();
		tv->tv_sec = (int64_t)(ns / 1000000000u);
		tv->tv_usec = (int64_t)(ns % 1000000000u / 1000u);
	}
	if (tz)
		return (int)syscall2(SYS_gettimeofday, 0, (long)tz);
	return 0;
}

int64_t __vdso_time(int64_t *t)
{
	int64_t s = (int64_t)(realtime_ns() / 1000000000u);
	if (t)
		*t = s;
	return s;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	(void)unused;
	if (cpu)
		*cpu = 0;
	if (node)
		*node = 0;
	return 0;
}

int clock_gettime(int, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_k *, struct timezone_k *) __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
