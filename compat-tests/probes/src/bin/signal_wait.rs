//! Waiting for signals and being interrupted by them: rt_sigtimedwait (already pending,
//! sent later from another thread, timeouts, EINVAL, interrupted by a handled signal),
//! rt_sigsuspend (and the mask its handler sees and restores), pause, a blocking pipe read
//! with and without SA_RESTART, nanosleep / clock_nanosleep, futex waits with and without
//! a timeout, and signals aimed at one thread (pthread_kill, tgkill, a process-directed
//! signal only one thread accepts, per-thread pending sets).
//!
//! Other threads send after sleeps of tens of ms; where a signal arriving before the
//! blocking call would make it hang, the sender repeats until the call has returned.
//! Only results are printed.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use probes::sig::*;
use probes::{check, outcome, outcome_val, syscall6, Errno, Timespec};

static COUNT: AtomicUsize = AtomicUsize::new(0);
static LAST_SIG: AtomicI32 = AtomicI32::new(0);
static HANDLER_TID: AtomicI32 = AtomicI32::new(0);
static HANDLER_MASK: AtomicU64 = AtomicU64::new(0);
static HANDLER_UC_MASK: AtomicU64 = AtomicU64::new(0);

extern "C" fn record(sig: i32, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    LAST_SIG.store(sig, SeqCst);
    HANDLER_TID.store(gettid(), SeqCst);
    HANDLER_MASK.store(current_mask(), SeqCst);
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler; the first 8 bytes
    // of uc_sigmask are the kernel's set.
    let uc = unsafe { (&(*(ctx as *const libc::ucontext_t)).uc_sigmask as *const libc::sigset_t as *const u64).read() };
    HANDLER_UC_MASK.store(uc, SeqCst);
    COUNT.fetch_add(1, SeqCst);
}

fn reset() {
    COUNT.store(0, SeqCst);
    HANDLER_TID.store(0, SeqCst);
}

fn count() -> usize {
    COUNT.load(SeqCst)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ts(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

/// Raw rt_sigtimedwait for the signals in `set`.
fn sigtimedwait(set: u64, timeout: Option<Timespec>) -> (isize, Info) {
    let mut info = [0u64; 16];
    let t = timeout.unwrap_or_default();
    let tp = if timeout.is_some() { &t as *const Timespec as usize } else { 0 };
    // SAFETY: an 8-byte set, a 128-byte siginfo buffer, NULL or a timespec.
    let r = unsafe {
        syscall6(
            libc::SYS_rt_sigtimedwait as usize,
            &set as *const u64 as usize,
            info.as_mut_ptr() as usize,
            tp,
            8,
            0,
            0,
        )
    };
    // SAFETY: `info` is 128 bytes.
    (r, unsafe { Info::read(info.as_ptr() as *const libc::siginfo_t) })
}

fn describe_wait(r: isize, inf: &Info) -> String {
    match check(r) {
        Ok(s) => format!(
            "{} (si_signo {}, {}, si_pid is getpid: {})",
            sig_name(s as i32),
            sig_name(inf.signo),
            si_code_name(inf.code),
            inf.pid == getpid()
        ),
        Err(e) => format!("Err({e})"),
    }
}

fn sigtimedwait_section() {
    println!("== rt_sigtimedwait");
    let set = bit(SIGUSR1) | bit(SIGUSR2) | bit(40);
    block(set);
    // SAFETY: raise takes no pointers.
    unsafe { libc::raise(SIGUSR1) };
    let (r, inf) = sigtimedwait(bit(SIGUSR1), None);
    println!("already pending (raise), no timeout: {}", describe_wait(r, &inf));
    println!("pending after: {}", mask_names(pending()));

    let (r, _) = sigtimedwait(bit(SIGUSR2), Some(Timespec::default()));
    println!("nothing pending, zero timeout: {}", outcome(r));
    let t = Instant::now();
    let (r, _) = sigtimedwait(bit(SIGUSR2), Some(ts(ms(30))));
    println!("nothing pending, 30 ms: {}, waited >= 30 ms: {}", outcome(r), t.elapsed() >= ms(30));

    kill(getpid(), SIGUSR2).expect("kill");
    kill(getpid(), SIGUSR1).expect("kill");
    let (r, _) = sigtimedwait(bit(40), Some(Timespec::default()));
    println!("USR1 and USR2 pending, waiting for sig40 only: {}", outcome(r));
    let (r1, _) = sigtimedwait(set, None);
    let (r2, _) = sigtimedwait(set, None);
    println!("both in the set: {} then {}", sig_name(r1 as i32), sig_name(r2 as i32));

    let pid = getpid();
    let sender = thread::spawn(move || {
        thread::sleep(ms(50));
        kill(pid, SIGUSR2).expect("kill");
    });
    let (r, inf) = sigtimedwait(bit(SIGUSR2), Some(ts(Duration::from_secs(10))));
    println!("kill from another thread after 50 ms: {}", describe_wait(r, &inf));
    sender.join().unwrap();

    let sender = thread::spawn(move || {
        thread::sleep(ms(50));
        // SAFETY: sigqueue takes no pointers.
        let r = unsafe { libc::sigqueue(pid, 40, libc::sigval { sival_ptr: 99 as *mut libc::c_void }) };
        assert_eq!(r, 0);
    });
    let (r, inf) = sigtimedwait(bit(40), None);
    println!("sigqueue from another thread: {}, si_value {}", describe_wait(r, &inf), inf.value);
    sender.join().unwrap();

    let bad = Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
    println!("tv_nsec 1e9: {}", outcome(sigtimedwait(bit(SIGUSR2), Some(bad)).0));
    let bad = Timespec { tv_sec: -1, tv_nsec: 0 };
    println!("tv_sec -1: {}", outcome(sigtimedwait(bit(SIGUSR2), Some(bad)).0));

    // A handled signal outside the set interrupts the wait.
    install(SIGHUP, record, SA_SIGINFO | SA_RESTART, 0);
    reset();
    static DONE: AtomicBool = AtomicBool::new(false);
    DONE.store(false, SeqCst);
    let p = pester(gettid(), SIGHUP, ms(20), &DONE);
    let (r, _) = sigtimedwait(bit(SIGUSR2), Some(ts(Duration::from_secs(10))));
    DONE.store(true, SeqCst);
    p.join().unwrap();
    println!("interrupted by a handled SIGHUP (SA_RESTART): {}, handler ran: {}", outcome(r), count() > 0);
    set_disposition(SIGHUP, SIG_DFL);
    set_mask(0);
}

fn rt_sigsuspend(mask: u64) -> isize {
    // SAFETY: an 8-byte set.
    unsafe { syscall6(libc::SYS_rt_sigsuspend as usize, &mask as *const u64 as usize, 8, 0, 0, 0, 0) }
}

fn sigsuspend_section() {
    println!("== rt_sigsuspend");
    install(SIGUSR1, record, SA_SIGINFO, 0);
    let before = bit(SIGUSR1) | bit(SIGWINCH);
    set_mask(before);
    reset();
    // SAFETY: raise takes no pointers.
    unsafe { libc::raise(SIGUSR1) };
    println!("raised while blocked: handler ran: {}", count() > 0);
    let r = rt_sigsuspend(bit(SIGTERM));
    println!(
        "sigsuspend([SIGTERM]) with USR1 pending: {}, ran {}, mask in handler {}, uc_sigmask {}, mask after {}",
        outcome(r),
        count(),
        mask_names(HANDLER_MASK.load(SeqCst)),
        mask_names(HANDLER_UC_MASK.load(SeqCst)),
        mask_names(current_mask())
    );

    reset();
    let (pid, tid) = (getpid(), gettid());
    let sender = thread::spawn(move || {
        thread::sleep(ms(50));
        tgkill(pid, tid, SIGUSR1).expect("tgkill");
    });
    let r = rt_sigsuspend(0);
    sender.join().unwrap();
    println!(
        "sigsuspend([]) until tgkill from another thread: {}, ran {}, on this thread: {}, mask after {}",
        outcome(r),
        count(),
        HANDLER_TID.load(SeqCst) == tid,
        mask_names(current_mask())
    );
    set_mask(0);
}

fn pause_section() {
    println!("== pause");
    install(SIGUSR1, record, SA_SIGINFO | SA_RESTART, 0);
    reset();
    static DONE: AtomicBool = AtomicBool::new(false);
    let p = pester(gettid(), SIGUSR1, ms(20), &DONE);
    // SAFETY: no arguments.
    let r = unsafe { syscall6(libc::SYS_pause as usize, 0, 0, 0, 0, 0, 0) };
    DONE.store(true, SeqCst);
    p.join().unwrap();
    println!("pause (handler with SA_RESTART): {}, handler ran: {}", outcome(r), count() > 0);
}

fn read_section() {
    println!("== a blocking read interrupted");
    let (pid, tid) = (getpid(), gettid());
    for (name, flags) in [("without SA_RESTART", SA_SIGINFO), ("with SA_RESTART", SA_SIGINFO | SA_RESTART)] {
        install(SIGUSR1, record, flags, 0);
        reset();
        let mut fds = [0i32; 2];
        // SAFETY: pipe writes two ints.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let [rd, wr] = fds;
        let mut buf = [0u8; 64];
        if flags & SA_RESTART == 0 {
            static DONE: AtomicBool = AtomicBool::new(false);
            let p = pester(tid, SIGUSR1, ms(20), &DONE);
            let r = probes::sys::read(rd, &mut buf);
            DONE.store(true, SeqCst);
            p.join().unwrap();
            println!("{name}: read {}, handler ran: {}", outcome_val(r), count() > 0);
        } else {
            let writer = thread::spawn(move || {
                for _ in 0..2 {
                    thread::sleep(ms(30));
                    tgkill(pid, tid, SIGUSR1).expect("tgkill");
                }
                thread::sleep(ms(40));
                probes::sys::write(wr, b"late data");
            });
            let r = probes::sys::read(rd, &mut buf);
            writer.join().unwrap();
            let n = check(r).unwrap_or(0);
            println!(
                "{name}: read {} {:?}, handler ran: {}",
                outcome_val(r),
                String::from_utf8_lossy(&buf[..n]),
                count() > 0
            );
        }
        probes::sys::close(rd);
        probes::sys::close(wr);
    }
}

fn sleep_section() {
    println!("== sleeps interrupted (a handler: EINTR even with SA_RESTART)");
    let tid = gettid();
    for (name, flags) in [("without SA_RESTART", SA_SIGINFO), ("with SA_RESTART", SA_SIGINFO | SA_RESTART)] {
        install(SIGUSR1, record, flags, 0);
        static DONE: AtomicBool = AtomicBool::new(false);

        reset();
        DONE.store(false, SeqCst);
        let p = pester(tid, SIGUSR1, ms(20), &DONE);
        let req = Timespec { tv_sec: 5, tv_nsec: 0 };
        let mut rem = Timespec::default();
        // SAFETY: two timespecs.
        let r = unsafe {
            syscall6(
                libc::SYS_nanosleep as usize,
                &req as *const Timespec as usize,
                &mut rem as *mut Timespec as usize,
                0,
                0,
                0,
                0,
            )
        };
        DONE.store(true, SeqCst);
        p.join().unwrap();
        println!(
            "nanosleep 5 s {name}: {}, 0 < rem < 5 s: {}, handler ran: {}",
            outcome(r),
            rem > Timespec::default() && rem < req,
            count() > 0
        );

        reset();
        DONE.store(false, SeqCst);
        let p = pester(tid, SIGUSR1, ms(20), &DONE);
        let mut rem = Timespec::default();
        // SAFETY: two timespecs.
        let r = unsafe {
            syscall6(
                libc::SYS_clock_nanosleep as usize,
                libc::CLOCK_MONOTONIC as usize,
                0,
                &req as *const Timespec as usize,
                &mut rem as *mut Timespec as usize,
                0,
                0,
            )
        };
        DONE.store(true, SeqCst);
        p.join().unwrap();
        println!(
            "clock_nanosleep relative {name}: {}, 0 < rem < 5 s: {}",
            outcome(r),
            rem > Timespec::default() && rem < req
        );

        reset();
        DONE.store(false, SeqCst);
        let p = pester(tid, SIGUSR1, ms(20), &DONE);
        let now = probes::clock_gettime(probes::CLOCK_MONOTONIC).unwrap();
        let until = Timespec::from_nanos(now.as_nanos() + 5_000_000_000);
        let mut rem = Timespec { tv_sec: 77, tv_nsec: 0 };
        // SAFETY: two timespecs.
        let r = unsafe {
            syscall6(
                libc::SYS_clock_nanosleep as usize,
                libc::CLOCK_MONOTONIC as usize,
                libc::TIMER_ABSTIME as usize,
                &until as *const Timespec as usize,
                &mut rem as *mut Timespec as usize,
                0,
                0,
            )
        };
        DONE.store(true, SeqCst);
        p.join().unwrap();
        println!("clock_nanosleep TIMER_ABSTIME {name}: {}, rem untouched: {}", outcome(r), rem.tv_sec == 77);
    }
}

const FUTEX_WAIT_PRIVATE: usize = 128;
const FUTEX_WAKE_PRIVATE: usize = 129;

fn futex(word: &AtomicI32, op: usize, val: i32, timeout: Option<&Timespec>) -> isize {
    let tp = timeout.map_or(0, |t| t as *const Timespec as usize);
    // SAFETY: a live aligned futex word and NULL or a timespec.
    unsafe { syscall6(libc::SYS_futex as usize, word.as_ptr() as usize, op, val as usize, tp, 0, 0) }
}

fn futex_section() {
    println!("== futex waits interrupted");
    let tid = gettid();
    static WORD: AtomicI32 = AtomicI32::new(0);
    static DONE: AtomicBool = AtomicBool::new(false);

    install(SIGUSR1, record, SA_SIGINFO, 0);
    reset();
    WORD.store(0, SeqCst);
    DONE.store(false, SeqCst);
    let p = pester(tid, SIGUSR1, ms(20), &DONE);
    let r = futex(&WORD, FUTEX_WAIT_PRIVATE, 0, None);
    DONE.store(true, SeqCst);
    p.join().unwrap();
    println!("FUTEX_WAIT, no timeout, without SA_RESTART: {}, handler ran: {}", outcome(r), count() > 0);

    install(SIGUSR1, record, SA_SIGINFO | SA_RESTART, 0);
    reset();
    DONE.store(false, SeqCst);
    let p = pester(tid, SIGUSR1, ms(20), &DONE);
    let t = Timespec { tv_sec: 10, tv_nsec: 0 };
    let r = futex(&WORD, FUTEX_WAIT_PRIVATE, 0, Some(&t));
    DONE.store(true, SeqCst);
    p.join().unwrap();
    println!("FUTEX_WAIT, 10 s timeout, with SA_RESTART: {}, handler ran: {}", outcome(r), count() > 0);

    reset();
    let pid = getpid();
    let waker = thread::spawn(move || {
        for _ in 0..2 {
            thread::sleep(ms(30));
            tgkill(pid, tid, SIGUSR1).expect("tgkill");
        }
        thread::sleep(ms(40));
        WORD.store(1, SeqCst);
        futex(&WORD, FUTEX_WAKE_PRIVATE, 1, None);
    });
    let r = futex(&WORD, FUTEX_WAIT_PRIVATE, 0, None);
    waker.join().unwrap();
    // Restarted after the handler, the wait sleeps again and is woken (0), or finds the word
    // already changed (EAGAIN) if the waker got there first.
    let woken = r == 0 || (check(r) == Err(Errno(libc::EAGAIN)) && WORD.load(SeqCst) == 1);
    println!(
        "FUTEX_WAIT, no timeout, with SA_RESTART: restarted, not EINTR: {}, woken: {woken}, handler ran: {}",
        check(r) != Err(Errno(libc::EINTR)),
        count() > 0
    );
}

fn thread_section() {
    println!("== signals aimed at one thread");
    install(SIGUSR1, record, SA_SIGINFO, 0);
    install(SIGUSR2, record, SA_SIGINFO, 0);
    set_mask(0);
    static T_TID: AtomicI32 = AtomicI32::new(0);
    static STEP: AtomicUsize = AtomicUsize::new(0);
    static T_PENDING: AtomicU64 = AtomicU64::new(0);
    static T_RAN_AFTER_UNBLOCK: AtomicBool = AtomicBool::new(false);
    let target = thread::Builder::new()
        .name("target".into())
        .spawn(|| {
            T_TID.store(gettid(), SeqCst);
            block(bit(SIGUSR2));
            STEP.store(1, SeqCst);
            wait_until(Duration::from_secs(10), || STEP.load(SeqCst) == 2);
            T_PENDING.store(pending(), SeqCst);
            unblock(bit(SIGUSR2));
            T_RAN_AFTER_UNBLOCK.store(HANDLER_TID.load(SeqCst) == gettid() && LAST_SIG.load(SeqCst) == SIGUSR2, SeqCst);
            STEP.store(3, SeqCst);
            wait_until(Duration::from_secs(10), || STEP.load(SeqCst) == 4);
        })
        .unwrap();
    wait_until(Duration::from_secs(10), || STEP.load(SeqCst) == 1);
    let t_tid = T_TID.load(SeqCst);
    let (pid, me) = (getpid(), gettid());

    reset();
    use std::os::unix::thread::JoinHandleExt;
    // SAFETY: the thread is alive (it waits for STEP 4) and its pthread_t is valid.
    let r = unsafe { libc::pthread_kill(target.as_pthread_t(), SIGUSR1) };
    let ran = wait_until(Duration::from_secs(5), || count() > 0);
    println!(
        "pthread_kill(target, USR1): {}, ran: {ran}, on the target thread: {}",
        r,
        HANDLER_TID.load(SeqCst) == t_tid
    );

    reset();
    let r = tgkill(pid, t_tid, SIGUSR1);
    let ran = wait_until(Duration::from_secs(5), || count() > 0);
    println!(
        "tgkill(pid, target, USR1): {}, ran: {ran}, on the target thread: {}",
        r.is_ok(),
        HANDLER_TID.load(SeqCst) == t_tid
    );

    reset();
    block(bit(SIGUSR1));
    kill(pid, SIGUSR1).expect("kill");
    let ran = wait_until(Duration::from_secs(5), || count() > 0);
    println!(
        "kill(pid, USR1) with USR1 blocked on main only: ran: {ran}, on the target thread: {}, not on main: {}",
        HANDLER_TID.load(SeqCst) == t_tid,
        HANDLER_TID.load(SeqCst) != me
    );
    unblock(bit(SIGUSR1));

    reset();
    tgkill(pid, t_tid, SIGUSR2).expect("tgkill");
    thread::sleep(ms(20));
    println!(
        "tgkill(target, USR2) blocked there: handler ran: {}, pending on main: {}",
        count() > 0,
        mask_names(pending())
    );
    STEP.store(2, SeqCst);
    wait_until(Duration::from_secs(10), || STEP.load(SeqCst) == 3);
    println!(
        "pending on the target: {}, delivered there on unblock: {}",
        mask_names(T_PENDING.load(SeqCst)),
        T_RAN_AFTER_UNBLOCK.load(SeqCst)
    );
    STEP.store(4, SeqCst);
    target.join().unwrap();
    // join returns once the kernel cleared the tid; give the exiting task time to go away.
    thread::sleep(ms(20));
    println!("tgkill to the exited thread: {:?}", tgkill(pid, t_tid, SIGUSR1).map(|_| ()));
    set_disposition(SIGUSR1, SIG_DFL);
    set_disposition(SIGUSR2, SIG_DFL);
}

fn main() {
    set_mask(0);
    sigtimedwait_section();
    sigsuspend_section();
    pause_section();
    read_section();
    sleep_section();
    futex_section();
    thread_section();
    println!("== done");
}
