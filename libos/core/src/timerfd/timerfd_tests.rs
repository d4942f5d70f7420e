//! timerfds: the timer's rules at given times ([`Expiry`]), the file over the fake
//! platform (whose clocks move only when the libOS sleeps), and the syscalls' checks.

extern crate std;

use alloc::string::String;
use core::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::file::{oflags, OpenFile};
use crate::readiness::Observer;
use crate::testing::{kernel_on, FakePlatform};

const MS: u64 = 1_000_000;
const MONOTONIC: i32 = 1;

fn tv(value: u64, interval: u64) -> TimerValue {
    TimerValue { value, interval }
}

fn spec(value: u64, interval: u64) -> Itimerspec {
    itimerspec(tv(value, interval))
}

fn armed(value: u64, interval: u64, absolute: bool, now: u64) -> Expiry {
    let mut e = Expiry::default();
    e.settle(now);
    e.arm(tv(value, interval), absolute, now);
    e
}

#[test]
fn a_one_shot_timer_fires_once() {
    let mut e = armed(10 * MS, 0, false, 0);
    assert_eq!(e.due(), Some(10 * MS));
    assert_eq!(e.take(9 * MS), None);
    assert_eq!(e.get(9 * MS), tv(MS, 0));
    assert!(!e.fire(9 * MS));
    assert!(e.fire(10 * MS));
    assert_eq!(e.due(), None, "it stops");
    assert!(e.readable(10 * MS));
    assert_eq!(e.get(20 * MS), tv(0, 0), "a one-shot timer that fired has no time left");
    assert_eq!(e.take(50 * MS), Some(1));
    assert_eq!(e.take(60 * MS), None);
    assert!(!e.readable(60 * MS));
}

#[test]
fn a_periodic_timer_counts_what_it_missed_when_read() {
    let mut e = armed(10 * MS, 10 * MS, false, 0);
    assert!(e.fire(10 * MS));
    assert_eq!(e.due(), None, "it does not restart by itself");
    assert!(!e.fire(40 * MS));
    // Expirations at 10, 20, 30 and 40 ms.
    assert_eq!(e.take(45 * MS), Some(4));
    assert_eq!(e.due(), Some(50 * MS), "moved past the read and running again");
    assert_eq!(e.take(49 * MS), None);
    assert_eq!(e.take(50 * MS), Some(1));
}

#[test]
fn gettime_moves_a_periodic_timer_on_and_keeps_the_count() {
    let mut e = armed(10 * MS, 10 * MS, false, 0);
    assert_eq!(e.get(25 * MS), tv(5 * MS, 10 * MS));
    assert_eq!(e.ticks(), 2, "10 and 20 ms");
    assert_eq!(e.due(), Some(30 * MS));
    assert_eq!(e.take(31 * MS), Some(3));
}

#[test]
fn settime_returns_the_old_value_and_forgets_the_count() {
    let mut e = armed(10 * MS, 0, false, 0);
    assert_eq!(e.settle(4 * MS), tv(6 * MS, 0));
    e.arm(tv(MS, 0), false, 4 * MS);
    assert_eq!(e.settle(6 * MS), tv(0, 0), "fired at 5 ms");
    e.arm(tv(0, 7 * MS), false, 6 * MS);
    assert_eq!(e.take(6 * MS), None, "the count went with the new setting");
    assert_eq!(e.due(), None);
    assert_eq!(e.get(100 * MS), tv(0, 7 * MS), "a zero value disarms but keeps the interval");
    // A periodic timer that fired shows the time to its next expiry as the old value.
    let mut p = armed(10 * MS, 10 * MS, false, 0);
    assert_eq!(p.settle(35 * MS), tv(5 * MS, 10 * MS));
}

#[test]
fn an_absolute_time_in_the_past_fires_at_once_and_counts_every_interval() {
    let mut e = armed(MS, 100 * MS, true, 1001 * MS);
    // Expirations at 1, 101, ..., 1001 ms.
    assert_eq!(e.take(1001 * MS), Some(11));
    assert_eq!(e.due(), Some(1101 * MS));
}

#[test]
fn set_ticks_replaces_the_count() {
    let mut e = Expiry::default();
    e.set_ticks(5);
    assert!(e.readable(0));
    assert_eq!(e.take(0), Some(5));
}

#[derive(Default)]
struct Seen(AtomicU32);

impl Observer for Seen {
    fn on_events(&self, events: u16) {
        self.0.fetch_or(u32::from(events), Ordering::SeqCst);
    }
}

fn rd(t: &TimerFd) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    t.read(&mut b, true)?;
    Ok(u64::from_ne_bytes(b))
}

#[test]
fn the_file_reads_counts_and_announces_expiries() {
    let (p, k) = kernel_on(FakePlatform::new());
    let list = TimerFdList::new();
    let t = TimerFd::new(p, MONOTONIC, ClockId::Monotonic);
    list.add(&t);
    let seen = Arc::new(Seen::default());
    let Readiness::Pollee(pollee) = t.readiness() else { panic!("a timerfd has a pollee") };
    pollee.register(Arc::downgrade(&(seen.clone() as Arc<dyn Observer>)), 0);

    assert_eq!(t.read(&mut [0u8; 7], true), Err(Errno::EINVAL));
    assert_eq!(rd(&t), Err(Errno::EAGAIN), "disarmed");
    assert_eq!(list.run(), None);
    let changed = p.timers_changed.load(Ordering::Relaxed);
    assert_eq!(t.set(tv(10 * MS, 0), 0), tv(0, 0));
    assert!(p.timers_changed.load(Ordering::Relaxed) > changed, "the platform hears of the deadline");
    assert_eq!(list.run(), Some(10 * MS));
    assert_eq!(t.poll(POLLIN), 0);
    p.sleep(10 * MS).unwrap();
    assert_eq!(t.poll(POLLIN | crate::file::events::POLLOUT), POLLIN, "due: readable, never writable");
    assert_eq!(seen.0.load(Ordering::SeqCst), 0);
    assert_eq!(list.run(), None, "fired and stopped");
    assert_eq!(seen.0.swap(0, Ordering::SeqCst) as u16 & POLLIN, POLLIN);
    assert_eq!(rd(&t), Ok(1));
    assert_eq!(t.poll(POLLIN), 0);
    assert_eq!(t.write(&[0u8; 8], true), Err(Errno::EINVAL));
    drop(k);
}

#[test]
fn a_periodic_timer_rearms_when_read_and_the_list_forgets_closed_fds() {
    let (p, _k) = kernel_on(FakePlatform::new());
    let list = TimerFdList::new();
    let t = TimerFd::new(p, MONOTONIC, ClockId::Monotonic);
    list.add(&t);
    t.set(tv(5 * MS, 5 * MS), 0);
    p.sleep(17 * MS).unwrap();
    assert_eq!(list.run(), None);
    assert_eq!(rd(&t), Ok(3));
    assert_eq!(list.run(), Some(3 * MS), "20 ms, 3 ms from now");
    assert_eq!(t.get(), tv(3 * MS, 5 * MS));
    drop(t);
    assert_eq!(list.run(), None);
}

#[test]
fn a_blocking_read_waits_for_the_expiry() {
    let (p, _k) = kernel_on(FakePlatform::new());
    let t = TimerFd::new(p, MONOTONIC, ClockId::Monotonic);
    t.set(tv(10 * MS, 0), 0);
    let mover = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        p.sleep(10 * MS).unwrap();
    });
    let mut b = [0u8; 8];
    assert_eq!(t.read(&mut b, false), Ok(8));
    assert_eq!(u64::from_ne_bytes(b), 1);
    mover.join().unwrap();
}

#[test]
fn the_realtime_clock_runs_absolute_timers() {
    let (p, _k) = kernel_on(FakePlatform::new());
    let t = TimerFd::new(p, 0, ClockId::Realtime);
    let now = p.now(ClockId::Realtime).to_nanos().unwrap();
    t.set(tv(now + 30 * MS, 0), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
    assert_eq!(t.get(), tv(30 * MS, 0));
    t.set(tv(now - MS, 0), TFD_TIMER_ABSTIME);
    assert_eq!(rd(&t), Ok(1), "already due");
}

#[test]
fn set_ticks_and_other_ioctls() {
    let (p, _k) = kernel_on(FakePlatform::new());
    let t = TimerFd::new(p, MONOTONIC, ClockId::Monotonic);
    assert_eq!(t.ioctl(TFD_IOC_SET_TICKS, 0, &mut 0u64.to_ne_bytes()), Err(Errno::EINVAL));
    assert_eq!(t.ioctl(TFD_IOC_SET_TICKS, 0, &mut 5u64.to_ne_bytes()), Ok(0));
    assert_eq!(rd(&t), Ok(5));
    assert_eq!(t.ioctl(0x5401, 0, &mut []), Err(Errno::ENOTTY));
}

#[test]
fn it_is_an_anonymous_inode_with_fdinfo() {
    let (p, _k) = kernel_on(FakePlatform::new());
    let t = TimerFd::new(p, 9, ClockId::Boottime);
    assert_eq!(t.anon_name().unwrap(), b"anon_inode:[timerfd]");
    assert_eq!(t.stat().unwrap().st_mode, 0o600);
    t.set(tv(1_500_000_000, 2_000_000_000), 0);
    let info = String::from_utf8(t.fdinfo()).unwrap();
    assert_eq!(info, "clockid: 9\nticks: 0\nsettime flags: 00\nit_value: (1, 500000000)\nit_interval: (2, 0)\n");
}

#[test]
fn create_checks_flags_and_clocks_as_linux_does() {
    let (p, k) = kernel_on(FakePlatform::new());
    assert_eq!(p.host.uid, 1000);
    for clock in [2, 3, 4, 5, 6, 10, 11, 12, -1] {
        assert_eq!(k.timerfd_create(clock, 0), Err(Errno::EINVAL), "clock {clock}");
    }
    assert_eq!(k.timerfd_create(MONOTONIC, 1), Err(Errno::EINVAL));
    assert_eq!(k.timerfd_create(8, 1), Err(Errno::EINVAL), "flags are checked with the clock");
    assert_eq!(k.timerfd_create(8, 0), Err(Errno::EPERM), "no CAP_WAKE_ALARM");
    assert_eq!(k.timerfd_create(9, 0), Err(Errno::EPERM));
    let fd = k.timerfd_create(0, oflags::O_NONBLOCK | oflags::O_CLOEXEC).unwrap();
    let fds = k.fds.lock();
    assert_eq!(fds.cloexec(fd), Ok(true));
    assert_eq!(fds.get(fd).unwrap().flags(), oflags::O_RDWR | oflags::O_NONBLOCK);
    drop(fds);
    assert_eq!(clock_of(8, true), Ok(ClockId::Realtime));
    assert_eq!(clock_of(9, true), Ok(ClockId::Boottime));
}

#[test]
fn settime_and_gettime_check_in_linux_order() {
    let (_p, k) = kernel_on(FakePlatform::new());
    let fd = k.timerfd_create(MONOTONIC, 0).unwrap();
    let bad = Itimerspec { it_interval: Timespec::ZERO, it_value: Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 } };
    let neg = Itimerspec { it_interval: Timespec { tv_sec: -1, tv_nsec: 0 }, it_value: Timespec::ZERO };
    assert_eq!(k.timerfd_settime(fd, 4, spec(0, 0)), Err(Errno::EINVAL));
    assert_eq!(k.timerfd_settime(99, 4, spec(0, 0)), Err(Errno::EINVAL), "flags before the fd");
    assert_eq!(k.timerfd_settime(99, 0, bad), Err(Errno::EINVAL), "the value before the fd");
    assert_eq!(k.timerfd_settime(fd, 0, neg), Err(Errno::EINVAL));
    assert_eq!(k.timerfd_settime(99, 0, spec(0, 0)), Err(Errno::EBADF));
    assert_eq!(k.timerfd_settime(-1, 0, spec(0, 0)), Err(Errno::EBADF));
    assert_eq!(k.timerfd_settime(0, 0, spec(0, 0)), Err(Errno::EINVAL), "not a timerfd");
    assert_eq!(k.timerfd_gettime(0), Err(Errno::EINVAL));
    assert_eq!(k.timerfd_gettime(99), Err(Errno::EBADF));
    assert_eq!(k.timerfd_settime(fd, 3, spec(5 * MS, MS)), Ok(spec(0, 0)));
    // Absolute 5 ms is long past: the old value is the time to the next interval.
    assert_eq!(k.timerfd_settime(fd, 0, spec(2 * MS, 0)), Ok(spec(MS, MS)));
    assert_eq!(k.timerfd_gettime(fd), Ok(spec(2 * MS, 0)));
}

#[test]
fn run_timers_fires_timerfds_and_says_when_next() {
    let (p, k) = kernel_on(FakePlatform::new());
    let fd = k.timerfd_create(MONOTONIC, oflags::O_NONBLOCK).unwrap();
    assert_eq!(k.run_timers(), None);
    k.timerfd_settime(fd, 0, spec(7 * MS, 0)).unwrap();
    assert_eq!(k.run_timers(), Some(7 * MS));
    p.sleep(7 * MS).unwrap();
    assert_eq!(k.run_timers(), None);
    let open: Arc<OpenFile> = k.fds.lock().get(fd).unwrap();
    assert_eq!(open.file.poll(POLLIN), POLLIN);
    let mut b = [0u8; 8];
    assert_eq!(open.read(&mut b), Ok(8));
    assert_eq!(u64::from_ne_bytes(b), 1);
    assert_eq!(open.read(&mut b), Err(Errno::EAGAIN));
}
