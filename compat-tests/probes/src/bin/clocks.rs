//! Clocks and sleeps: clock_gettime / clock_getres on every common clock (raw syscall and
//! through libc, which may use the vDSO), monotonicity, sleeps lasting at least what was
//! asked, gettimeofday and time(NULL) agreeing with CLOCK_REALTIME, error cases.
//! Only properties are printed, never times.

use probes::*;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CLOCK_TAI: usize = 11;
const TIMER_ABSTIME: usize = 1;
const NSEC: i128 = 1_000_000_000;
/// 2020-01-01T00:00:00Z: any real-time clock reading must be later.
const Y2020: i64 = 1_577_836_800;

const CLOCKS: &[(&str, usize)] = &[
    ("REALTIME", CLOCK_REALTIME),
    ("MONOTONIC", CLOCK_MONOTONIC),
    ("PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID),
    ("THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID),
    ("MONOTONIC_RAW", CLOCK_MONOTONIC_RAW),
    ("REALTIME_COARSE", CLOCK_REALTIME_COARSE),
    ("MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE),
    ("BOOTTIME", CLOCK_BOOTTIME),
    ("TAI", CLOCK_TAI),
];

fn getres(clock: usize) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one `struct timespec` into `ts`.
    let r = unsafe { syscall!(nr::CLOCK_GETRES, clock, &mut ts as *mut Timespec) };
    check(r).map(|_| ts)
}

fn nanosleep(req: Timespec) -> isize {
    let mut rem = Timespec::default();
    // SAFETY: `req` is read and `rem` written, both valid timespecs.
    unsafe {
        syscall!(
            nr::NANOSLEEP,
            &req as *const Timespec,
            &mut rem as *mut Timespec
        )
    }
}

fn clock_nanosleep(clock: usize, flags: usize, req: Timespec) -> isize {
    let mut rem = Timespec::default();
    // SAFETY: `req` is read and `rem` written, both valid timespecs.
    unsafe {
        syscall!(
            nr::CLOCK_NANOSLEEP,
            clock,
            flags,
            &req as *const Timespec,
            &mut rem as *mut Timespec
        )
    }
}

/// libc's clock_gettime (vDSO natively where available).
fn libc_clock_gettime(clock: usize) -> Result<Timespec, i32> {
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec::default();
    // SAFETY: libc writes one `struct timespec` into `ts`.
    let r = unsafe { clock_gettime(clock as i32, &mut ts) };
    if r == 0 {
        Ok(ts)
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

fn gettime_section() {
    println!("== clock_gettime / clock_getres");
    for &(name, id) in CLOCKS {
        let raw = clock_gettime(id);
        let lib = libc_clock_gettime(id);
        let valid = |t: &Timespec| (0..NSEC as i64).contains(&t.tv_nsec) && t.tv_sec >= 0;
        let line = match (&raw, &lib) {
            (Ok(a), Ok(b)) => format!("ok, nsec in range: {}", valid(a) && valid(b)),
            (Err(e), _) => format!(
                "Err({e}), libc {:?}",
                lib.as_ref().err().map(|&e| errno_name(e))
            ),
            (Ok(_), Err(e)) => format!("raw ok but libc Err({})", errno_name(*e)),
        };
        let res = match getres(id) {
            Ok(r) if r.as_nanos() == 1 => "1ns".to_string(),
            // The coarse clocks tick at the kernel's HZ: report a range, not the value.
            Ok(r) if r.tv_sec == 0 && r.tv_nsec > 1 && r.tv_nsec <= 10_000_000 => {
                "coarse (<= 10ms)".to_string()
            }
            Ok(r) => format!("unexpected {}s {}ns", r.tv_sec, r.tv_nsec),
            Err(e) => format!("Err({e})"),
        };
        println!("{name}: gettime {line}; getres {res}");
    }
    let rt = clock_gettime(CLOCK_REALTIME).unwrap();
    println!("REALTIME after 2020: {}", rt.tv_sec > Y2020);
    let coarse = clock_gettime(CLOCK_REALTIME_COARSE).unwrap();
    println!(
        "REALTIME_COARSE within 1s of REALTIME: {}",
        (rt.as_nanos() - coarse.as_nanos()).abs() < NSEC
    );
    let mono = clock_gettime(CLOCK_MONOTONIC).unwrap();
    let boot = clock_gettime(CLOCK_BOOTTIME).unwrap();
    println!("BOOTTIME >= MONOTONIC: {}", boot >= mono);
    let tai = clock_gettime(CLOCK_TAI).unwrap();
    println!(
        "TAI >= REALTIME: {}",
        tai.as_nanos() + NSEC >= rt.as_nanos()
    );

    for &(name, id) in &[("12", 12usize), ("100", 100)] {
        println!(
            "invalid clock {name}: gettime {}, getres {}",
            err_of(clock_gettime(id)),
            err_of(getres(id))
        );
    }
    // SAFETY: deliberately bad pointer: the kernel checks it and returns EFAULT.
    let r = unsafe { syscall!(nr::CLOCK_GETTIME, CLOCK_MONOTONIC, 8usize) };
    println!("gettime into bad pointer: {}", outcome(r));
    // SAFETY: NULL result pointer is allowed for clock_getres.
    let r = unsafe { syscall!(nr::CLOCK_GETRES, CLOCK_MONOTONIC, 0usize) };
    println!("getres with NULL: {}", outcome(r));
}

fn err_of<T>(r: Result<T, Errno>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("Err({e})"),
    }
}

fn monotonic_section() {
    println!("== monotonicity");
    for &(name, id) in &[
        ("MONOTONIC", CLOCK_MONOTONIC),
        ("MONOTONIC_RAW", CLOCK_MONOTONIC_RAW),
        ("MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE),
        ("BOOTTIME", CLOCK_BOOTTIME),
        ("PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID),
        ("THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID),
    ] {
        let mut prev = clock_gettime(id).unwrap();
        let mut ok = true;
        for _ in 0..2000 {
            let now = clock_gettime(id).unwrap();
            ok &= now >= prev;
            prev = now;
        }
        let mut lprev = libc_clock_gettime(id).unwrap();
        for _ in 0..2000 {
            let now = libc_clock_gettime(id).unwrap();
            ok &= now >= lprev;
            lprev = now;
        }
        println!("{name} non-decreasing over 4000 reads: {ok}");
    }
    let start = clock_gettime(CLOCK_PROCESS_CPUTIME_ID).unwrap();
    let t0 = Instant::now();
    let mut x = 0u64;
    while t0.elapsed() < Duration::from_millis(20) {
        x = x.wrapping_add(std::hint::black_box(1));
    }
    std::hint::black_box(x);
    let end = clock_gettime(CLOCK_PROCESS_CPUTIME_ID).unwrap();
    println!("process CPU time advanced while spinning: {}", end > start);
    let thread = clock_gettime(CLOCK_THREAD_CPUTIME_ID).unwrap();
    println!("thread CPU time > 0: {}", thread.as_nanos() > 0);
}

fn elapsed_at_least(clock: usize, ns: i128, f: impl FnOnce() -> isize) -> String {
    let a = clock_gettime(clock).unwrap();
    let r = f();
    let b = clock_gettime(clock).unwrap();
    format!(
        "{}, elapsed >= requested: {}",
        outcome(r),
        b.as_nanos() - a.as_nanos() >= ns
    )
}

fn sleep_section() {
    println!("== sleeps");
    let ms = |n: i64| Timespec {
        tv_sec: 0,
        tv_nsec: n * 1_000_000,
    };
    println!(
        "nanosleep 20ms: {}",
        elapsed_at_least(CLOCK_MONOTONIC, 20_000_000, || nanosleep(ms(20)))
    );
    println!("nanosleep 0: {}", outcome(nanosleep(Timespec::default())));
    println!(
        "nanosleep tv_nsec = 1e9: {}",
        outcome(nanosleep(Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000_000
        }))
    );
    println!(
        "nanosleep tv_sec = -1: {}",
        outcome(nanosleep(Timespec {
            tv_sec: -1,
            tv_nsec: 0
        }))
    );
    // SAFETY: deliberately bad pointer: the kernel checks it and returns EFAULT.
    let r = unsafe { syscall!(nr::NANOSLEEP, 8usize, 0usize) };
    println!("nanosleep bad pointer: {}", outcome(r));

    for &(name, id) in &[
        ("MONOTONIC", CLOCK_MONOTONIC),
        ("REALTIME", CLOCK_REALTIME),
        ("BOOTTIME", CLOCK_BOOTTIME),
    ] {
        println!(
            "clock_nanosleep {name} relative 10ms: {}",
            elapsed_at_least(id, 10_000_000, || clock_nanosleep(id, 0, ms(10)))
        );
        let target = Timespec::from_nanos(clock_gettime(id).unwrap().as_nanos() + 15_000_000);
        let r = clock_nanosleep(id, TIMER_ABSTIME, target);
        let after = clock_gettime(id).unwrap();
        println!(
            "clock_nanosleep {name} TIMER_ABSTIME +15ms: {}, woke at or after target: {}",
            outcome(r),
            after >= target
        );
    }
    let past = Timespec::from_nanos(clock_gettime(CLOCK_MONOTONIC).unwrap().as_nanos() - NSEC);
    println!(
        "clock_nanosleep TIMER_ABSTIME in the past: {}",
        outcome(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, past))
    );
    println!(
        "clock_nanosleep THREAD_CPUTIME_ID: {}",
        outcome(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, ms(1)))
    );
    println!(
        "clock_nanosleep invalid clock 100: {}",
        outcome(clock_nanosleep(100, 0, ms(1)))
    );
    println!(
        "clock_nanosleep tv_nsec = 1e9: {}",
        outcome(clock_nanosleep(
            CLOCK_MONOTONIC,
            0,
            Timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000_000
            }
        ))
    );

    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(25));
    println!(
        "std::thread::sleep 25ms: elapsed >= 25ms: {}",
        t0.elapsed() >= Duration::from_millis(25)
    );
}

#[repr(C)]
#[derive(Default)]
struct Timeval {
    tv_sec: i64,
    tv_usec: i64,
}

fn wallclock_section() {
    println!("== gettimeofday / time");
    let mut tv = Timeval::default();
    // SAFETY: the kernel writes one `struct timeval`; the timezone pointer is NULL.
    let r = unsafe { syscall!(nr::GETTIMEOFDAY, &mut tv as *mut Timeval, 0usize) };
    let rt = clock_gettime(CLOCK_REALTIME).unwrap();
    let tv_ns = tv.tv_sec as i128 * NSEC + tv.tv_usec as i128 * 1000;
    println!(
        "gettimeofday: {}, usec in range: {}",
        outcome(r),
        (0..1_000_000).contains(&tv.tv_usec)
    );
    println!(
        "gettimeofday within 1s of REALTIME: {}",
        (rt.as_nanos() - tv_ns).abs() < NSEC
    );
    // SAFETY: both pointers NULL is allowed.
    let r = unsafe { syscall!(nr::GETTIMEOFDAY, 0usize, 0usize) };
    println!("gettimeofday(NULL, NULL): {}", outcome(r));
    // SAFETY: deliberately bad pointer: the kernel checks it and returns EFAULT.
    let r = unsafe { syscall!(nr::GETTIMEOFDAY, 8usize, 0usize) };
    println!("gettimeofday bad pointer: {}", outcome(r));

    // SAFETY: NULL argument: time(2) only returns the value.
    let t = unsafe { syscall!(nr::TIME, 0usize) };
    println!(
        "time(NULL) within 1s of REALTIME: {}",
        (t as i64 - rt.tv_sec).abs() <= 1
    );
    let mut out: i64 = 0;
    // SAFETY: the kernel writes one time_t into `out`.
    let t2 = unsafe { syscall!(nr::TIME, &mut out as *mut i64) };
    println!("time(&t) stores its result: {}", out == t2 as i64);

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    println!(
        "SystemTime::now after 2020: {}",
        now.as_secs() as i64 > Y2020
    );
    let i0 = Instant::now();
    let i1 = Instant::now();
    println!("Instant non-decreasing: {}", i1 >= i0);
}

fn main() {
    gettime_section();
    monotonic_section();
    sleep_section();
    wallclock_section();
}
