//! timerfd_create, timerfd_settime and timerfd_gettime: clocks and flags and their
//! errnos, bad values, fds and pointers, reads (short buffers EINVAL, EAGAIN when
//! nothing expired, the count since the last read), one-shot and periodic timers
//! (missed expirations counted), absolute times, the old and current values,
//! readiness through poll, select and epoll (level- and edge-triggered), blocking
//! reads woken by the expiry or ended by a signal (EINTR, or restarted with
//! SA_RESTART), TFD_IOC_SET_TICKS, fcntl flags, fstat, /proc/self/fd and fdinfo.
//!
//! Times are never printed: counts and remaining times are checked against bounds
//! computed from clock reads taken around the calls, and printed as booleans.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use probes::fsutil::{must, section, v};
use probes::net::*;
use probes::{clock_gettime, sig, Timespec, CLOCK_MONOTONIC, CLOCK_REALTIME};

const MS: i128 = 1_000_000;
const SEC: i128 = 1_000_000_000;
const TFD_TIMER_ABSTIME: i32 = 1;
const TFD_TIMER_CANCEL_ON_SET: i32 = 2;
const TFD_IOC_SET_TICKS: usize = 0x4008_5400;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;

/// `struct itimerspec`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Itimerspec {
    interval: Timespec,
    value: Timespec,
}

fn spec(value_ns: i128, interval_ns: i128) -> Itimerspec {
    Itimerspec { interval: Timespec::from_nanos(interval_ns), value: Timespec::from_nanos(value_ns) }
}

fn sys(n: i64, a: [usize; 4]) -> isize {
    // SAFETY: every caller passes pointers to live buffers of the size the syscall
    // uses (an `Itimerspec`, a `u64`), null, or an address chosen to give EFAULT.
    unsafe { probes::syscall6(n as usize, a[0], a[1], a[2], a[3], 0, 0) }
}

fn create(clock: i32, flags: i32) -> isize {
    sys(libc::SYS_timerfd_create, [clock as usize, flags as usize, 0, 0])
}

fn settime_raw(fd: i32, flags: i32, new: usize, old: usize) -> isize {
    sys(libc::SYS_timerfd_settime, [fd as usize, flags as usize, new, old])
}

/// `timerfd_settime` with a new value; returns the result and the old value.
fn settime(fd: i32, flags: i32, new: Itimerspec) -> (isize, Itimerspec) {
    let mut old = Itimerspec::default();
    let r = settime_raw(fd, flags, &new as *const _ as usize, &mut old as *mut _ as usize);
    (r, old)
}

fn arm(fd: i32, flags: i32, new: Itimerspec) {
    must("timerfd_settime", settime(fd, flags, new).0 as isize);
}

fn gettime_raw(fd: i32, out: usize) -> isize {
    sys(libc::SYS_timerfd_gettime, [fd as usize, out, 0, 0])
}

fn gettime(fd: i32) -> Itimerspec {
    let mut cur = Itimerspec::default();
    must("timerfd_gettime", gettime_raw(fd, &mut cur as *mut _ as usize));
    cur
}

fn set_ticks(fd: i32, ptr: usize) -> isize {
    sys(libc::SYS_ioctl, [fd as usize, TFD_IOC_SET_TICKS, ptr, 0])
}

/// A read of the count: `Ok(n)` or the errno.
fn rd(fd: i32) -> String {
    match rd_count(fd) {
        Ok(n) => format!("Ok({n})"),
        Err(r) => v(r),
    }
}

fn rd_count(fd: i32) -> Result<u64, isize> {
    let mut b = [0u8; 8];
    match read(fd, &mut b) {
        8 => Ok(u64::from_ne_bytes(b)),
        r => Err(r),
    }
}

fn mono() -> i128 {
    clock_gettime(CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC").as_nanos()
}

fn real() -> i128 {
    clock_gettime(CLOCK_REALTIME).expect("CLOCK_REALTIME").as_nanos()
}

/// Whether `n` is the number of expirations by a read between `r0` and `r1` of a timer
/// armed between `s0` and `s1` for `value` then every `interval`.
fn count_fits(n: u64, (s0, s1): (i128, i128), (r0, r1): (i128, i128), value: i128, interval: i128) -> bool {
    let expirations = |set: i128, at: i128| if at < set + value { 0 } else { (at - set - value) / interval + 1 };
    let (lo, hi) = (expirations(s1, r0), expirations(s0, r1));
    lo <= n as i128 && n as i128 <= hi
}

/// Whether `n` is the number of expirations of a periodic timer between a read
/// between `a0` and `a1` and the next between `b0` and `b1`: a span of time holds at
/// least its length in whole intervals, and at most one more.
fn between_fits(n: u64, (a0, a1): (i128, i128), (b0, b1): (i128, i128), interval: i128) -> bool {
    let (lo, hi) = ((b0 - a1).max(0) / interval, (b1 - a0) / interval + 1);
    lo <= n as i128 && n as i128 <= hi
}

fn pollin(fd: i32, timeout_ms: i32) -> String {
    let mut p = [libc::pollfd { fd, events: libc::POLLIN | libc::POLLOUT, revents: 0 }];
    let r = poll(&mut p, timeout_ms);
    format!("{} {}", v(r), events(p[0].revents as u32))
}

fn fdinfo(fd: i32) -> String {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
    let keep = ["clockid:", "ticks:", "settime flags:", "it_interval:"];
    let lines: Vec<&str> = text.lines().filter(|l| keep.iter().any(|k| l.starts_with(k))).collect();
    lines.join("; ")
}

extern "C" fn on_usr1(_: i32, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

fn main() {
    section("create");
    for (name, clock) in [
        ("CLOCK_REALTIME", 0),
        ("CLOCK_MONOTONIC", 1),
        ("CLOCK_BOOTTIME", CLOCK_BOOTTIME),
        ("CLOCK_PROCESS_CPUTIME_ID", 2),
        ("CLOCK_THREAD_CPUTIME_ID", 3),
        ("CLOCK_MONOTONIC_RAW", 4),
        ("CLOCK_MONOTONIC_COARSE", 6),
        ("CLOCK_TAI", 11),
        ("clock 12", 12),
        ("clock -1", -1),
    ] {
        let r = create(clock, 0);
        println!("{name}: {}", probes::outcome(r));
        if r >= 0 {
            close(r as i32);
        }
    }
    // CAP_WAKE_ALARM: allowed as root, EPERM otherwise (the VM's guest is always root,
    // so the output does not say which).
    let root = sig::getuid() == 0;
    for (name, clock) in
        [("CLOCK_REALTIME_ALARM", CLOCK_REALTIME_ALARM), ("CLOCK_BOOTTIME_ALARM", CLOCK_BOOTTIME_ALARM)]
    {
        let r = create(clock, 0);
        let expected = if root { r >= 0 } else { r == -(libc::EPERM as isize) };
        println!("{name}: as expected for the uid: {expected}");
        if r >= 0 {
            close(r as i32);
        }
    }
    println!("flags 4: {}", v(create(1, 4)));
    println!("flags O_RDWR: {}", v(create(1, libc::O_RDWR)));
    println!("bad flags and bad clock: {}", v(create(99, 4)));
    let fd = must("timerfd_create", create(1, 0));
    let cfd = must("timerfd_create", create(1, libc::O_NONBLOCK | libc::O_CLOEXEC));
    println!("F_GETFL: {:#o} / NONBLOCK|CLOEXEC: {:#o}", fcntl(fd, libc::F_GETFL, 0), fcntl(cfd, libc::F_GETFL, 0));
    println!("F_GETFD: {} / NONBLOCK|CLOEXEC: {}", v(fcntl(fd, libc::F_GETFD, 0)), v(fcntl(cfd, libc::F_GETFD, 0)));
    let (_, st) = probes::sys::fstat(fd);
    println!("fstat mode: {:#o} nlink {} size {}", st.st_mode, st.st_nlink, st.st_size);
    let link = probes::sys::readlink(&format!("/proc/self/fd/{fd}"));
    println!("link: {link:?}");
    println!("fdinfo: {}", fdinfo(fd));

    section("errors");
    let (efd, pipe_r) = (must("eventfd", eventfd(0)), must("eventfd", eventfd(0)));
    let zero = spec(0, 0);
    let zp = &zero as *const Itimerspec as usize;
    let mut out = Itimerspec::default();
    let op = &mut out as *mut Itimerspec as usize;
    let bad_ptr = probes::KERNEL_ADDR;
    println!("settime flags 4: {}", v(settime(fd, 4, zero).0));
    println!("settime flags 4, bad fd: {}", v(settime(999, 4, zero).0));
    println!("settime bad fd: {}", v(settime(999, 0, zero).0));
    println!("settime fd -1: {}", v(settime(-1, 0, zero).0));
    println!("settime an eventfd: {}", v(settime(efd, 0, zero).0));
    println!("settime NULL new: {}", v(settime_raw(fd, 0, 0, op)));
    println!("settime NULL new, bad fd: {}", v(settime_raw(999, 0, 0, op)));
    println!("settime bad new: {}", v(settime_raw(fd, 0, bad_ptr, op)));
    println!("settime NULL old: {}", v(settime_raw(fd, 0, zp, 0)));
    for (what, bad) in [
        ("tv_nsec 1e9", Itimerspec { value: Timespec { tv_sec: 0, tv_nsec: SEC as i64 }, ..zero }),
        ("tv_nsec -1", Itimerspec { value: Timespec { tv_sec: 0, tv_nsec: -1 }, ..zero }),
        ("tv_sec -1", Itimerspec { value: Timespec { tv_sec: -1, tv_nsec: 0 }, ..zero }),
        ("interval tv_nsec 1e9", Itimerspec { interval: Timespec { tv_sec: 0, tv_nsec: SEC as i64 }, ..zero }),
        ("interval tv_sec -1", Itimerspec { interval: Timespec { tv_sec: -1, tv_nsec: 0 }, ..zero }),
    ] {
        println!("settime {what}: {} / bad fd: {}", v(settime(fd, 0, bad).0), v(settime(999, 0, bad).0));
    }
    // The old value is written after the timer changed: EFAULT, and it is armed.
    let armed = spec(100 * SEC, 0);
    println!("settime bad old: {}", v(settime_raw(fd, 0, &armed as *const _ as usize, bad_ptr)));
    println!("  armed anyway: {}", gettime(fd).value.tv_sec > 90);
    arm(fd, 0, zero);
    println!("gettime bad ptr: {}", v(gettime_raw(fd, bad_ptr)));
    println!("gettime NULL: {}", v(gettime_raw(fd, 0)));
    println!("gettime bad fd: {}", v(gettime_raw(999, op)));
    println!("gettime an eventfd: {}", v(gettime_raw(pipe_r, op)));
    let mut short = [0u8; 7];
    println!("read 7 bytes: {}", v(read(cfd, &mut short)));
    println!("read bad buffer: {}", v(sys(libc::SYS_read, [cfd as usize, bad_ptr, 8, 0])));
    println!("write: {}", v(write(cfd, &1u64.to_ne_bytes())));
    println!("ioctl TCGETS: {}", v(sys(libc::SYS_ioctl, [fd as usize, libc::TCGETS as usize, op, 0])));
    close(efd);
    close(pipe_r);

    section("disarmed");
    println!("gettime: {:?}", gettime(fd));
    println!("nonblocking read: {}", rd(cfd));
    println!("poll: {}", pollin(cfd, 0));
    let (r, old) = settime(fd, 0, spec(0, 7 * SEC));
    println!("settime value 0 interval 7s: {} old {:?}", v(r), old);
    println!("gettime keeps the interval: {:?}", gettime(fd));
    println!("fdinfo: {}", fdinfo(fd));

    section("ticks");
    let five = 5u64;
    println!("SET_TICKS 5: {}", v(set_ticks(cfd, &five as *const u64 as usize)));
    println!("poll: {}", pollin(cfd, 0));
    println!("fdinfo: {}", fdinfo(cfd));
    println!("read: {}", rd(cfd));
    let nothing = 0u64;
    println!("SET_TICKS 0: {}", v(set_ticks(cfd, &nothing as *const u64 as usize)));
    println!("SET_TICKS bad pointer: {}", v(set_ticks(cfd, bad_ptr)));
    println!("read: {}", rd(cfd));

    section("one-shot");
    let (r, old) = settime(cfd, 0, spec(30 * MS, 0));
    println!("settime 30ms: {} old {:?}", v(r), old);
    let cur = gettime(cfd);
    println!(
        "gettime: 0 < value <= 30ms: {} interval 0: {}",
        cur.value.as_nanos() > 0 && cur.value.as_nanos() <= 30 * MS,
        cur.interval == Timespec::default()
    );
    println!("read before the expiry: {}", rd(cfd));
    println!("poll before the expiry: {}", pollin(cfd, 0));
    println!("poll up to 5s: {}", pollin(cfd, 5000));
    println!("gettime after the expiry: {:?}", gettime(cfd));
    println!("read: {}", rd(cfd));
    println!("read again: {}", rd(cfd));
    println!("poll: {}", pollin(cfd, 0));

    section("a pending count goes with a new setting");
    arm(cfd, 0, spec(1, 0));
    nap(10);
    let (r, old) = settime(cfd, 0, zero);
    println!("disarm after the expiry: {} old {:?}", v(r), old);
    println!("read: {}", rd(cfd));

    section("periodic");
    let s0 = mono();
    arm(cfd, 0, spec(20 * MS, 20 * MS));
    let s1 = mono();
    nap(110);
    let r0 = mono();
    let n = rd_count(cfd);
    let r1 = mono();
    let n = n.unwrap_or(0);
    println!("count >= 5: {}", n >= 5);
    println!("count fits the clock: {}", count_fits(n, (s0, s1), (r0, r1), 20 * MS, 20 * MS));
    let cur = gettime(cfd);
    println!(
        "gettime: 0 < value <= 20ms: {} interval 20ms: {}",
        cur.value.as_nanos() > 0 && cur.value.as_nanos() <= 20 * MS,
        cur.interval.as_nanos() == 20 * MS
    );
    // gettime moves the timer on and keeps what it missed for the next read.
    nap(70);
    let g0 = mono();
    let cur = gettime(cfd);
    println!(
        "gettime after 70ms unread: 0 < value <= 20ms: {}",
        cur.value.as_nanos() > 0 && cur.value.as_nanos() <= 20 * MS
    );
    let (s0, s1) = (r0, r1); // the first read
    let r0 = mono();
    let n = rd_count(cfd).unwrap_or(0);
    let r1 = mono();
    println!("count >= 3: {} gettime came first: {}", n >= 3, g0 <= r0);
    println!("count fits the clock: {}", between_fits(n, (s0, s1), (r0, r1), 20 * MS));
    let (r, old) = settime(cfd, 0, zero);
    println!(
        "disarm: {} old 0 < value <= 20ms: {} old interval 20ms: {}",
        v(r),
        old.value.as_nanos() > 0 && old.value.as_nanos() <= 20 * MS,
        old.interval.as_nanos() == 20 * MS
    );

    section("absolute");
    let now = mono();
    arm(
        cfd,
        TFD_TIMER_ABSTIME,
        Itimerspec { value: Timespec::from_nanos(now - SEC), interval: Timespec::from_nanos(100 * MS) },
    );
    let r0 = mono();
    let n = rd_count(cfd).unwrap_or(0);
    let r1 = mono();
    println!("1s in the past, every 100ms: count >= 11: {}", n >= 11);
    println!("count fits the clock: {}", count_fits(n, (now - SEC, now - SEC), (r0, r1), 0, 100 * MS));
    let target = mono() + 40 * MS;
    arm(fd, TFD_TIMER_ABSTIME, Itimerspec { value: Timespec::from_nanos(target), interval: Timespec::default() });
    let cur = gettime(fd);
    println!("gettime 40ms ahead: 0 < value <= 40ms: {}", cur.value.as_nanos() > 0 && cur.value.as_nanos() <= 40 * MS);
    println!("blocking read: {}", rd(fd));
    println!("  not before the time: {}", mono() >= target);
    let rt = real() + 100 * SEC;
    let (r, _) = settime(
        cfd,
        TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
        Itimerspec { value: Timespec::from_nanos(rt), interval: Timespec::default() },
    );
    println!("realtime clock ABSTIME|CANCEL_ON_SET on a monotonic timerfd: {}", v(r));
    let rfd = must("timerfd_create", create(0, libc::O_NONBLOCK));
    let rt = real() + 100 * SEC;
    let (r, _) = settime(
        rfd,
        TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
        Itimerspec { value: Timespec::from_nanos(rt), interval: Timespec::default() },
    );
    let cur = gettime(rfd);
    println!(
        "CLOCK_REALTIME ABSTIME|CANCEL_ON_SET 100s ahead: {} 99s < value <= 100s: {}",
        v(r),
        cur.value.as_nanos() > 99 * SEC && cur.value.as_nanos() <= 100 * SEC
    );
    println!("fdinfo: {}", fdinfo(rfd));
    println!("read: {}", rd(rfd));
    arm(rfd, 0, spec(20 * MS, 0));
    println!("CLOCK_REALTIME relative 20ms, poll: {}", pollin(rfd, 5000));
    println!("read: {}", rd(rfd));
    close(rfd);
    arm(cfd, 0, zero);

    section("old value");
    arm(fd, 0, spec(SEC, 3 * SEC));
    nap(10);
    let (r, old) = settime(fd, 0, spec(2 * SEC, 0));
    println!(
        "rearm: {} old 0.5s < value < 1s: {} old interval: {:?}",
        v(r),
        old.value.as_nanos() > SEC / 2 && old.value.as_nanos() < SEC,
        old.interval
    );
    let (r, old) = settime(fd, 0, zero);
    println!(
        "disarm: {} old 1s < value <= 2s: {} old interval {:?}",
        v(r),
        old.value.as_nanos() > SEC && old.value.as_nanos() <= 2 * SEC,
        old.interval
    );

    section("other clocks");
    let bfd = must("timerfd_create", create(CLOCK_BOOTTIME, 0));
    arm(bfd, 0, spec(20 * MS, 0));
    println!("CLOCK_BOOTTIME 20ms, blocking read: {}", rd(bfd));
    close(bfd);
    // An alarm clock where the uid allows one (root), else CLOCK_BOOTTIME again.
    let clock = if root { CLOCK_BOOTTIME_ALARM } else { CLOCK_BOOTTIME };
    let afd = must("timerfd_create", create(clock, 0));
    arm(afd, 0, spec(20 * MS, 0));
    println!("CLOCK_BOOTTIME_ALARM (root) or CLOCK_BOOTTIME 20ms, blocking read: {}", rd(afd));
    println!("fdinfo names the clock: {}", fdinfo(afd).starts_with(&format!("clockid: {clock};")));
    close(afd);

    section("dup");
    let d = must("dup", probes::sys::dup(cfd) as isize);
    arm(d, 0, spec(10 * SEC, SEC));
    println!("set through a dup, gettime through the original: interval {:?}", gettime(cfd).interval);
    arm(cfd, 0, zero);
    close(d);

    section("epoll, level-triggered");
    let ep = must("epoll_create1", epoll_create1(0));
    println!("add: {}", v(epoll_ctl(ep, libc::EPOLL_CTL_ADD, cfd, libc::EPOLLIN as u32, 7)));
    println!("wait, disarmed: {}", {
        let (r, e) = epoll_wait(ep, 4, 0);
        wait_result(r, &e)
    });
    arm(cfd, 0, spec(30 * MS, 0));
    let (r, e) = epoll_wait(ep, 4, 5000);
    println!("wait up to 5s: {}", wait_result(r, &e));
    let (r, e) = epoll_wait(ep, 4, 0);
    println!("again, unread: {}", wait_result(r, &e));
    println!("read: {}", rd(cfd));
    let (r, e) = epoll_wait(ep, 4, 0);
    println!("after the read: {}", wait_result(r, &e));
    close(ep);

    section("epoll, edge-triggered");
    let ep = must("epoll_create1", epoll_create1(0));
    println!("add: {}", v(epoll_ctl(ep, libc::EPOLL_CTL_ADD, cfd, libc::EPOLLIN as u32 | libc::EPOLLET as u32, 8)));
    arm(cfd, 0, spec(20 * MS, 20 * MS));
    let (r, e) = epoll_wait(ep, 4, 5000);
    println!("wait up to 5s: {}", wait_result(r, &e));
    // An unread periodic timer stops after its first expiry: no new edge.
    let (r, e) = epoll_wait(ep, 4, 100);
    println!("wait 100ms more, unread: {}", wait_result(r, &e));
    let n = rd_count(cfd).unwrap_or(0);
    println!("read: count >= 5: {}", n >= 5);
    let (r, e) = epoll_wait(ep, 4, 5000);
    println!("after the read, the next expiry: {}", wait_result(r, &e));
    arm(cfd, 0, zero);
    println!("read after disarming: {}", rd(cfd));
    close(ep);

    // The `polling` crate (async-io, smol) times its epoll waits this way: a one-shot
    // timerfd entry, re-armed with timerfd_settime and EPOLL_CTL_MOD before each
    // epoll_wait(-1), never read; an eventfd entry to be woken early.
    section("epoll, one-shot entries as the polling crate uses them");
    let ep = must("epoll_create1", epoll_create1(libc::EPOLL_CLOEXEC));
    let notifier = must("eventfd2", eventfd2(0, libc::O_NONBLOCK | libc::O_CLOEXEC));
    let oneshot_in = (libc::EPOLLIN | libc::EPOLLONESHOT) as u32;
    println!("add timerfd, no events: {}", v(epoll_ctl(ep, libc::EPOLL_CTL_ADD, cfd, libc::EPOLLONESHOT as u32, 1)));
    println!("add eventfd: {}", v(epoll_ctl(ep, libc::EPOLL_CTL_ADD, notifier, oneshot_in, 2)));
    for round in 0..3 {
        let t0 = mono();
        arm(cfd, 0, spec(20 * MS, 0));
        let m = epoll_ctl(ep, libc::EPOLL_CTL_MOD, cfd, oneshot_in, 1);
        let (r, e) = epoll_wait(ep, 4, -1);
        println!("round {round}: mod {} wait {} after >= 20ms: {}", v(m), wait_result(r, &e), mono() - t0 >= 20 * MS);
    }
    // The last expiry was never read: re-arming forgets it, so the entry is not ready.
    arm(cfd, 0, spec(10 * SEC, 0));
    let m = epoll_ctl(ep, libc::EPOLL_CTL_MOD, cfd, oneshot_in, 1);
    let (r, e) = epoll_wait(ep, 4, 0);
    println!("re-armed for 10s: mod {} wait {}", v(m), wait_result(r, &e));
    let waker = std::thread::spawn(move || {
        nap(30);
        write(notifier, &1u64.to_ne_bytes())
    });
    let (r, e) = epoll_wait(ep, 4, -1);
    println!("woken by the eventfd: {} (writer {})", wait_result(r, &e), v(waker.join().unwrap()));
    arm(cfd, 0, zero);
    close(notifier);
    close(ep);

    section("poll and select");
    arm(cfd, 0, spec(30 * MS, 0));
    println!("poll up to 5s: {}", pollin(cfd, 5000));
    println!("read: {}", rd(cfd));
    arm(cfd, 0, spec(30 * MS, 0));
    let mut set = fdset(&[cfd]);
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    println!(
        "select, not yet: {} {:?}",
        v(select(cfd + 1, Some(&mut set), None, None, Some(&mut tv))),
        fdset_members(&set)
    );
    let mut set = fdset(&[cfd]);
    let mut tv = libc::timeval { tv_sec: 5, tv_usec: 0 };
    let r = select(cfd + 1, Some(&mut set), None, None, Some(&mut tv));
    println!("select up to 5s: {} fd in the set: {}", v(r), fdset_members(&set) == vec![cfd]);
    println!("read: {}", rd(cfd));

    section("blocking");
    arm(fd, 0, spec(40 * MS, 0));
    let t0 = mono();
    println!("blocking read: {}", rd(fd));
    println!("  waited >= 40ms: {}", mono() - t0 >= 40 * MS);
    // A reader blocked on a disarmed timer is woken when another thread arms it.
    let reader = std::thread::spawn(move || rd(fd));
    nap(30);
    arm(fd, 0, spec(20 * MS, 0));
    println!("reader blocked before the timer was armed: {}", reader.join().unwrap());

    section("signals");
    static DONE: AtomicBool = AtomicBool::new(false);
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO, 0);
    let pester = sig::pester(sig::gettid(), libc::SIGUSR1, std::time::Duration::from_millis(20), &DONE);
    println!("blocking read of a disarmed timer, signal without SA_RESTART: {}", rd(fd));
    DONE.store(true, SeqCst);
    pester.join().unwrap();
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO | libc::SA_RESTART, 0);
    let me = sig::gettid();
    let pid = sig::getpid();
    let t = std::thread::spawn(move || {
        nap(30);
        let _ = sig::tgkill(pid, me, libc::SIGUSR1);
    });
    arm(fd, 0, spec(100 * MS, 0));
    println!("blocking read, signal with SA_RESTART, then the expiry: {}", rd(fd));
    t.join().unwrap();

    section("close");
    arm(fd, 0, spec(10 * MS, 10 * MS));
    println!("close an armed timerfd: {}", v(close(fd)));
    nap(30);
    println!("read after close: {}", rd(fd));
    println!("close: {}", v(close(cfd)));
}
