//! Timers that send signals: setitimer/getitimer (ITIMER_REAL one-shot and periodic, the
//! old value, errors), alarm (seconds left of the previous one, shared with ITIMER_REAL),
//! POSIX timers (timer_create on CLOCK_MONOTONIC and CLOCK_REALTIME with SIGEV_SIGNAL:
//! si_code SI_TIMER, si_value, si_timerid; the NULL sigevent default; SIGEV_THREAD_ID to a
//! chosen thread; SIGEV_NONE; timer_gettime, overruns while the signal is blocked,
//! TIMER_ABSTIME, EINVAL cases, timer_delete).
//!
//! Times are short (tens of ms) and only properties are printed (remaining <= set, fired at
//! least N times), never the times themselves.
//!
//! With the argument `die`: SIGALRM with its default action ends the process (signal 14).

use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use probes::sig::*;
use probes::{check, outcome, syscall6, Errno, Timespec};

static COUNT: AtomicUsize = AtomicUsize::new(0);
/// The first delivery since `reset`.
static CODE: AtomicI32 = AtomicI32::new(0);
static SIGNO: AtomicI32 = AtomicI32::new(0);
static TIMERID: AtomicI32 = AtomicI32::new(0);
static OVERRUN: AtomicI32 = AtomicI32::new(0);
static VALUE: AtomicU64 = AtomicU64::new(0);
static TID: AtomicI32 = AtomicI32::new(0);
/// timer_getoverrun of CUR_TIMER, called in the handler.
static GETOVERRUN: AtomicI64 = AtomicI64::new(0);
static CUR_TIMER: AtomicI32 = AtomicI32::new(-1);

extern "C" fn record(sig: i32, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    if COUNT.fetch_add(1, SeqCst) == 0 {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let inf = unsafe { Info::read(info) };
        SIGNO.store(sig, SeqCst);
        CODE.store(inf.code, SeqCst);
        TIMERID.store(inf.pid, SeqCst);
        OVERRUN.store(inf.uid as i32, SeqCst);
        VALUE.store(inf.value, SeqCst);
        TID.store(gettid(), SeqCst);
        let t = CUR_TIMER.load(SeqCst);
        if t >= 0 {
            GETOVERRUN.store(timer_getoverrun(t) as i64, SeqCst);
        }
    }
}

fn reset() {
    COUNT.store(0, SeqCst);
    CUR_TIMER.store(-1, SeqCst);
}

fn count() -> usize {
    COUNT.load(SeqCst)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fired(n: usize) -> bool {
    wait_until(Duration::from_secs(3), || count() >= n)
}

#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Timeval {
    sec: i64,
    usec: i64,
}

impl Timeval {
    fn ms(n: i64) -> Timeval {
        Timeval { sec: n / 1000, usec: (n % 1000) * 1000 }
    }
    fn is_zero(self) -> bool {
        self == Timeval::default()
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct Itimerval {
    interval: Timeval,
    value: Timeval,
}

const ITIMER_REAL: usize = 0;
const ITIMER_VIRTUAL: usize = 1;
const ITIMER_PROF: usize = 2;

fn setitimer(which: usize, new: &Itimerval) -> (isize, Itimerval) {
    let mut old = Itimerval::default();
    // SAFETY: two itimervals.
    let r = unsafe {
        syscall6(
            libc::SYS_setitimer as usize,
            which,
            new as *const Itimerval as usize,
            &mut old as *mut Itimerval as usize,
            0,
            0,
            0,
        )
    };
    (r, old)
}

fn getitimer(which: usize) -> (isize, Itimerval) {
    let mut cur = Itimerval::default();
    // SAFETY: one itimerval.
    let r = unsafe { syscall6(libc::SYS_getitimer as usize, which, &mut cur as *mut Itimerval as usize, 0, 0, 0, 0) };
    (r, cur)
}

fn alarm(secs: u32) -> isize {
    // SAFETY: no pointers.
    unsafe { syscall6(libc::SYS_alarm as usize, secs as usize, 0, 0, 0, 0, 0) }
}

fn itimer(value_ms: i64, interval_ms: i64) -> Itimerval {
    Itimerval { interval: Timeval::ms(interval_ms), value: Timeval::ms(value_ms) }
}

fn itimer_section() {
    println!("== setitimer / getitimer (ITIMER_REAL)");
    install(SIGALRM, record, SA_SIGINFO | SA_RESTART, 0);
    let (r, cur) = getitimer(ITIMER_REAL);
    println!("getitimer at start: {}, disarmed: {}", outcome(r), cur.value.is_zero() && cur.interval.is_zero());

    reset();
    let (r, old) = setitimer(ITIMER_REAL, &itimer(50, 0));
    println!("setitimer 50 ms: {}, old value zero: {}", outcome(r), old.value.is_zero());
    let (_, cur) = getitimer(ITIMER_REAL);
    println!(
        "getitimer right after: 0 < value <= 50 ms: {}, interval zero: {}",
        !cur.value.is_zero() && cur.value <= Timeval::ms(50),
        cur.interval.is_zero()
    );
    let f = fired(1);
    thread::sleep(ms(60));
    println!(
        "fired: {f}, count {} (one-shot), {} {}, on the main thread: true",
        count(),
        sig_name(SIGNO.load(SeqCst)),
        si_code_name(CODE.load(SeqCst))
    );
    let (_, cur) = getitimer(ITIMER_REAL);
    println!("getitimer after it fired: disarmed: {}", cur.value.is_zero());

    setitimer(ITIMER_REAL, &itimer(1000, 0));
    let (r, old) = setitimer(ITIMER_REAL, &itimer(0, 0));
    println!(
        "disarm a 1 s timer: {}, old value: 0 < value <= 1 s: {}",
        outcome(r),
        !old.value.is_zero() && old.value <= Timeval::ms(1000)
    );

    reset();
    setitimer(ITIMER_REAL, &itimer(20, 20));
    let (_, cur) = getitimer(ITIMER_REAL);
    println!("periodic 20 ms: interval read back 20 ms: {}", cur.interval == Timeval::ms(20));
    println!("fired at least 3 times: {}", fired(3));
    let (_, old) = setitimer(ITIMER_REAL, &itimer(0, 0));
    let n = count();
    thread::sleep(ms(60));
    println!("disarmed (old interval 20 ms: {}): no more signals: {}", old.interval == Timeval::ms(20), count() == n);

    for which in [ITIMER_VIRTUAL, ITIMER_PROF] {
        let (r, _) = setitimer(which, &itimer(1000, 0));
        let (_, cur) = getitimer(which);
        let (_, old) = setitimer(which, &itimer(0, 0));
        println!(
            "{}: set {}, 0 < value <= 1 s + 10 ms (Linux adds a tick): {}, disarmed with the old value returned: {}",
            if which == ITIMER_VIRTUAL { "ITIMER_VIRTUAL" } else { "ITIMER_PROF" },
            outcome(r),
            !cur.value.is_zero() && cur.value <= Timeval::ms(1010),
            !old.value.is_zero()
        );
    }

    let bad = Itimerval { interval: Timeval::default(), value: Timeval { sec: 0, usec: 1_000_000 } };
    println!("tv_usec 1000000: {}", outcome(setitimer(ITIMER_REAL, &bad).0));
    let bad = Itimerval { interval: Timeval::default(), value: Timeval { sec: -1, usec: 0 } };
    println!("tv_sec -1: {}", outcome(setitimer(ITIMER_REAL, &bad).0));
    println!("setitimer which 3: {}", outcome(setitimer(3, &itimer(10, 0)).0));
    println!("getitimer which 3: {}", outcome(getitimer(3).0));
}

fn alarm_section() {
    println!("== alarm");
    println!("alarm(5): {}", alarm(5));
    println!("alarm(3): {} (seconds left of the previous one, rounded)", alarm(3));
    let (_, cur) = getitimer(ITIMER_REAL);
    println!(
        "getitimer sees it: 2 s < value <= 3 s: {}",
        cur.value > Timeval::ms(2000) && cur.value <= Timeval::ms(3000)
    );
    println!("alarm(0): {}", alarm(0));
    println!("alarm(0) again: {}", alarm(0));
    setitimer(ITIMER_REAL, &itimer(1200, 0));
    println!("alarm(0) after setitimer 1.2 s: {}", alarm(0));
    reset();
    setitimer(ITIMER_REAL, &itimer(30, 0));
    println!("SIGALRM after an alarm-style 30 ms timer: fired: {}", fired(1));
}

/// The kernel's `struct sigevent` (64 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
struct Sigevent {
    value: u64,
    signo: i32,
    notify: i32,
    tid: i32,
    _pad: [i32; 11],
}

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;

fn sigevent(notify: i32, signo: i32, value: u64) -> Sigevent {
    Sigevent { value, signo, notify, tid: 0, _pad: [0; 11] }
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct Itimerspec {
    interval: Timespec,
    value: Timespec,
}

fn itspec(value_ms: i64, interval_ms: i64) -> Itimerspec {
    let t = |m: i64| Timespec::from_nanos(m as i128 * 1_000_000);
    Itimerspec { interval: t(interval_ms), value: t(value_ms) }
}

fn zero(t: Timespec) -> bool {
    t == Timespec::default()
}

fn timer_create(clock: usize, ev: Option<&Sigevent>) -> Result<i32, Errno> {
    let mut id: i32 = -1;
    let evp = ev.map_or(0, |e| e as *const Sigevent as usize);
    // SAFETY: NULL or a 64-byte sigevent; the kernel writes one int id.
    let r = unsafe { syscall6(libc::SYS_timer_create as usize, clock, evp, &mut id as *mut i32 as usize, 0, 0, 0) };
    check(r).map(|_| id)
}

fn timer_settime(id: i32, flags: usize, new: &Itimerspec) -> (isize, Itimerspec) {
    let mut old = Itimerspec::default();
    // SAFETY: two itimerspecs.
    let r = unsafe {
        syscall6(
            libc::SYS_timer_settime as usize,
            id as usize,
            flags,
            new as *const Itimerspec as usize,
            &mut old as *mut Itimerspec as usize,
            0,
            0,
        )
    };
    (r, old)
}

fn timer_gettime(id: i32) -> (isize, Itimerspec) {
    let mut cur = Itimerspec::default();
    // SAFETY: one itimerspec.
    let r = unsafe {
        syscall6(libc::SYS_timer_gettime as usize, id as usize, &mut cur as *mut Itimerspec as usize, 0, 0, 0, 0)
    };
    (r, cur)
}

fn timer_getoverrun(id: i32) -> isize {
    // SAFETY: no pointers.
    unsafe { syscall6(libc::SYS_timer_getoverrun as usize, id as usize, 0, 0, 0, 0, 0) }
}

fn timer_delete(id: i32) -> isize {
    // SAFETY: no pointers.
    unsafe { syscall6(libc::SYS_timer_delete as usize, id as usize, 0, 0, 0, 0, 0) }
}

const RT: i32 = 40;

fn posix_timer_section() {
    println!("== timer_create with SIGEV_SIGNAL");
    install(RT, record, SA_SIGINFO | SA_RESTART, 0);
    if let Err(e) = timer_create(probes::CLOCK_MONOTONIC, Some(&sigevent(SIGEV_SIGNAL, RT, 0))).map(timer_delete) {
        println!("timer_create: Err({e}): no POSIX timers");
        return;
    }
    for (name, clock) in [("CLOCK_MONOTONIC", probes::CLOCK_MONOTONIC), ("CLOCK_REALTIME", probes::CLOCK_REALTIME)] {
        let value = 0x1234_0000 + clock as u64;
        let id = timer_create(clock, Some(&sigevent(SIGEV_SIGNAL, RT, value))).expect("timer_create");
        let (_, cur) = timer_gettime(id);
        println!("{name}: created, disarmed: {}", zero(cur.value) && zero(cur.interval));
        reset();
        let (r, old) = timer_settime(id, 0, &itspec(30, 0));
        let (_, cur) = timer_gettime(id);
        println!(
            "  settime 30 ms: {}, old value zero: {}, gettime: 0 < value <= 30 ms: {}",
            outcome(r),
            zero(old.value),
            !zero(cur.value) && cur.value <= itspec(30, 0).value
        );
        let f = fired(1);
        thread::sleep(ms(40));
        println!(
            "  fired: {f}, count {}, {} {}, si_value matches: {}, si_timerid is the id: {}, si_overrun {}",
            count(),
            sig_name(SIGNO.load(SeqCst)),
            si_code_name(CODE.load(SeqCst)),
            VALUE.load(SeqCst) == value,
            TIMERID.load(SeqCst) == id,
            OVERRUN.load(SeqCst)
        );
        let (_, cur) = timer_gettime(id);
        println!("  gettime after it fired: disarmed: {}", zero(cur.value));

        reset();
        timer_settime(id, 0, &itspec(10, 10));
        let (_, cur) = timer_gettime(id);
        println!("  periodic 10 ms: interval read back: {}", cur.interval == itspec(0, 10).interval);
        println!("  fired at least 3 times: {}", fired(3));
        let (r, old) = timer_settime(id, 0, &itspec(0, 0));
        println!("  disarm: {}, old interval 10 ms: {}", outcome(r), old.interval == itspec(0, 10).interval);
        println!("  timer_delete: {}", outcome(timer_delete(id)));
    }

    println!("== overruns while the signal is blocked");
    let id = timer_create(probes::CLOCK_MONOTONIC, Some(&sigevent(SIGEV_SIGNAL, RT, 7))).expect("timer_create");
    block(bit(RT));
    reset();
    CUR_TIMER.store(id, SeqCst);
    timer_settime(id, 0, &itspec(1, 1));
    thread::sleep(ms(50));
    println!("1 ms periodic, blocked for 50 ms: delivered: {}, pending {}", count() > 0, mask_names(pending()));
    unblock(bit(RT));
    let f = fired(1);
    timer_settime(id, 0, &itspec(0, 0));
    let overrun = OVERRUN.load(SeqCst);
    println!(
        "unblocked: fired: {f}, si_overrun > 0: {}, timer_getoverrun in the handler equals si_overrun: {}",
        overrun > 0,
        GETOVERRUN.load(SeqCst) == overrun as i64
    );
    CUR_TIMER.store(-1, SeqCst);
    timer_delete(id);

    println!("== TIMER_ABSTIME");
    for (name, clock) in [("CLOCK_MONOTONIC", probes::CLOCK_MONOTONIC), ("CLOCK_REALTIME", probes::CLOCK_REALTIME)] {
        let id = timer_create(clock, Some(&sigevent(SIGEV_SIGNAL, RT, 1))).expect("timer_create");
        let now = probes::clock_gettime(clock).unwrap();
        reset();
        let at = Itimerspec { interval: Timespec::default(), value: Timespec::from_nanos(now.as_nanos() + 30_000_000) };
        let (r, _) = timer_settime(id, libc::TIMER_ABSTIME as usize, &at);
        let (_, cur) = timer_gettime(id);
        println!(
            "{name} now + 30 ms: {}, gettime is relative (<= 30 ms): {}, fired: {}",
            outcome(r),
            !zero(cur.value) && cur.value <= itspec(30, 0).value,
            fired(1)
        );
        reset();
        let past =
            Itimerspec { interval: Timespec::default(), value: Timespec::from_nanos(now.as_nanos() - 1_000_000_000) };
        let (r, _) = timer_settime(id, libc::TIMER_ABSTIME as usize, &past);
        println!("{name} 1 s in the past: {}, fired: {}", outcome(r), fired(1));
        timer_delete(id);
    }

    println!("== the NULL sigevent: SIGALRM with si_value = the timer id");
    install(SIGALRM, record, SA_SIGINFO | SA_RESTART, 0);
    let id = timer_create(probes::CLOCK_MONOTONIC, None).expect("timer_create");
    reset();
    timer_settime(id, 0, &itspec(20, 0));
    println!(
        "fired: {}, {} {}, si_value is the id: {}",
        fired(1),
        sig_name(SIGNO.load(SeqCst)),
        si_code_name(CODE.load(SeqCst)),
        VALUE.load(SeqCst) as u32 as i32 == id
    );
    timer_delete(id);

    println!("== SIGEV_NONE");
    let id = timer_create(probes::CLOCK_MONOTONIC, Some(&sigevent(SIGEV_NONE, 0, 0))).expect("timer_create");
    reset();
    timer_settime(id, 0, &itspec(20, 0));
    let (_, cur) = timer_gettime(id);
    println!("armed 20 ms: gettime counts down: {}", !zero(cur.value) && cur.value <= itspec(20, 0).value);
    thread::sleep(ms(50));
    let (_, cur) = timer_gettime(id);
    println!("after 50 ms: expired: {}, signals: {}", zero(cur.value), count());
    timer_delete(id);

    println!("== SIGEV_THREAD_ID");
    static T_TID: AtomicI32 = AtomicI32::new(0);
    static STOP: AtomicUsize = AtomicUsize::new(0);
    let t = thread::spawn(|| {
        T_TID.store(gettid(), SeqCst);
        wait_until(Duration::from_secs(10), || STOP.load(SeqCst) == 1);
    });
    wait_until(Duration::from_secs(10), || T_TID.load(SeqCst) != 0);
    let mut ev = sigevent(SIGEV_THREAD_ID, RT, 3);
    ev.tid = T_TID.load(SeqCst);
    let id = timer_create(probes::CLOCK_MONOTONIC, Some(&ev)).expect("timer_create SIGEV_THREAD_ID");
    reset();
    timer_settime(id, 0, &itspec(20, 0));
    println!(
        "fired: {}, {}, handler ran on the chosen thread: {}",
        fired(1),
        si_code_name(CODE.load(SeqCst)),
        TID.load(SeqCst) == T_TID.load(SeqCst)
    );
    timer_delete(id);
    STOP.store(1, SeqCst);
    t.join().unwrap();

    println!("== errors");
    println!("invalid clock 100: {:?}", timer_create(100, Some(&sigevent(SIGEV_SIGNAL, RT, 0))).map(|_| ()));
    println!("signal 0: {:?}", timer_create(probes::CLOCK_MONOTONIC, Some(&sigevent(SIGEV_SIGNAL, 0, 0))).map(|_| ()));
    println!(
        "signal 65: {:?}",
        timer_create(probes::CLOCK_MONOTONIC, Some(&sigevent(SIGEV_SIGNAL, 65, 0))).map(|_| ())
    );
    println!("sigev_notify 7: {:?}", timer_create(probes::CLOCK_MONOTONIC, Some(&sigevent(7, RT, 0))).map(|_| ()));
    let id = timer_create(probes::CLOCK_MONOTONIC, Some(&sigevent(SIGEV_SIGNAL, RT, 0))).expect("timer_create");
    let bad = Itimerspec { interval: Timespec::default(), value: Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 } };
    println!("settime tv_nsec 1e9: {}", outcome(timer_settime(id, 0, &bad).0));
    let bad = Itimerspec { interval: Timespec::default(), value: Timespec { tv_sec: -1, tv_nsec: 0 } };
    println!("settime tv_sec -1: {}", outcome(timer_settime(id, 0, &bad).0));
    println!("timer_getoverrun of a fresh timer: {}", probes::outcome_val(timer_getoverrun(id)));
    println!("timer_delete: {}", outcome(timer_delete(id)));
    println!("after delete: gettime {}", outcome(timer_gettime(id).0));
    println!("after delete: settime {}", outcome(timer_settime(id, 0, &itspec(10, 0)).0));
    println!("after delete: getoverrun {}", outcome(timer_getoverrun(id)));
    println!("after delete: delete {}", outcome(timer_delete(id)));
    println!("never created (id 12345): gettime {}", outcome(timer_gettime(12345).0));
}

fn main() {
    set_mask(0);
    if std::env::args().nth(1).as_deref() == Some("die") {
        set_disposition(SIGALRM, SIG_DFL);
        println!("ITIMER_REAL 20 ms, SIGALRM default: the process dies by SIGALRM");
        let (r, _) = setitimer(ITIMER_REAL, &itimer(20, 0));
        if r != 0 {
            println!("setitimer: {}", outcome(r));
            std::process::exit(1);
        }
        // Not an endless pause: if the signal never comes, say so and fail.
        thread::sleep(Duration::from_secs(5));
        println!("still alive 5 s later");
        std::process::exit(1);
    }
    itimer_section();
    alarm_section();
    posix_timer_section();
    println!("== done");
}
