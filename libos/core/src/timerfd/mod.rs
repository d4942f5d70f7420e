//! `timerfd`: a timer read as data (Linux's `fs/timerfd.c`).
//!
//! A timerfd counts its timer's expirations; a read of 8 bytes or more takes the count
//! as a `u64` and waits, or gives EAGAIN, while it is 0. Poll: readable while the
//! count is not 0. The timer and its rules are in [`expiry`]; here it is a file with a
//! clock, a wait queue for readers and a pollee, so `read`, `poll`, `select` and
//! `epoll` (level- and edge-triggered) all see an expiry.
//!
//! Every timerfd is on the kernel's list ([`TimerFdList`]): the platform's calls of
//! [`crate::Kernel::run_timers`] fire the timers that are due and wake their readers
//! and observers, and the earliest timerfd deadline is part of the answer of when to
//! call again. A read, `timerfd_gettime` or `timerfd_settime` also fires a timer that
//! is due at that moment, and `poll` reports it readable, so what a thread sees never
//! depends on how promptly the platform came round.
//!
//! The alarm clocks are their plain clocks here (nothing suspends); a relative timer
//! on `CLOCK_REALTIME` runs on the monotonic clock, as Linux's hrtimers do.
//! `TFD_TIMER_CANCEL_ON_SET` is accepted and never cancels: the guest cannot set the
//! realtime clock (`clock_settime` is not offered), and a change of the host's clock
//! is not watched.

use alloc::format;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::{Itimerspec, Stat, Timespec};
use crate::file::events::{POLLIN, POLLRDNORM};
use crate::file::File;
use crate::platform::Platform;
use crate::readiness::{Pollee, Readiness};
use crate::sync::Mutex;
use crate::time::ClockId;
use crate::timers::{TimerValue, KTIME_MAX};
use crate::wait::WaitQueue;
use crate::{Errno, SysResult};

mod expiry;
mod kernel;

pub use expiry::Expiry;

/// `timerfd_settime` flags.
pub const TFD_TIMER_ABSTIME: u32 = 1;
pub const TFD_TIMER_CANCEL_ON_SET: u32 = 2;
/// `TFD_IOC_SET_TICKS` (`_IOW('T', 0, u64)`): sets the expiration count.
pub const TFD_IOC_SET_TICKS: u32 = 0x4008_5400;

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;

/// The inode number of the next timerfd (as eventfd numbers its own).
static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// The clock a timerfd on `raw` reads (`timerfd_create`'s checks): EINVAL for a clock
/// timerfds do not run on, EPERM for an alarm clock without `CAP_WAKE_ALARM`
/// (`may_wake`).
pub fn clock_of(raw: i32, may_wake: bool) -> Result<ClockId, Errno> {
    match raw {
        CLOCK_REALTIME => Ok(ClockId::Realtime),
        CLOCK_MONOTONIC => Ok(ClockId::Monotonic),
        CLOCK_BOOTTIME => Ok(ClockId::Boottime),
        CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM if !may_wake => Err(Errno::EPERM),
        CLOCK_REALTIME_ALARM => Ok(ClockId::Realtime),
        CLOCK_BOOTTIME_ALARM => Ok(ClockId::Boottime),
        _ => Err(Errno::EINVAL),
    }
}

/// A time as Linux's `ktime_t` holds it (EINVAL for a negative or non-normalised one).
fn nanos(t: Timespec) -> Result<u64, Errno> {
    t.to_nanos().map(|ns| ns.min(KTIME_MAX)).ok_or(Errno::EINVAL)
}

/// An `itimerspec` in nanoseconds (EINVAL as Linux's `itimerspec64_valid`).
pub fn timer_value(spec: Itimerspec) -> Result<TimerValue, Errno> {
    Ok(TimerValue { value: nanos(spec.it_value)?, interval: nanos(spec.it_interval)? })
}

/// A timer value as an `itimerspec`.
pub fn itimerspec(v: TimerValue) -> Itimerspec {
    Itimerspec { it_interval: Timespec::from_nanos(v.interval), it_value: Timespec::from_nanos(v.value) }
}

/// The timer and what goes with it, under one lock.
struct State {
    expiry: Expiry,
    /// The clock the current arming runs on (the fd's, or the monotonic clock for a
    /// relative realtime timer).
    base: ClockId,
    /// The flags of the last `timerfd_settime` that succeeded (fdinfo's).
    settime_flags: u32,
}

/// A timerfd.
pub struct TimerFd {
    platform: &'static dyn Platform,
    /// The `clockid_t` it was made with (fdinfo's `clockid`).
    raw_clock: i32,
    clock: ClockId,
    state: Mutex<State>,
    /// Readers blocked on a count of 0.
    queue: WaitQueue,
    pollee: Pollee,
    ino: u64,
}

impl TimerFd {
    /// A disarmed timerfd on `clock` (from [`clock_of`]; `raw_clock` is the id it
    /// was asked for).
    pub fn new(platform: &'static dyn Platform, raw_clock: i32, clock: ClockId) -> Arc<TimerFd> {
        Arc::new(TimerFd {
            platform,
            raw_clock,
            clock,
            state: Mutex::new(State { expiry: Expiry::default(), base: clock, settime_flags: 0 }),
            queue: WaitQueue::new(),
            pollee: Pollee::new(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        })
    }

    fn now(&self, clock: ClockId) -> u64 {
        self.platform.now(clock).to_nanos().unwrap_or(0).min(KTIME_MAX)
    }

    /// Readers and observers hear of an expiration (call with the state unlocked).
    fn fired(&self) {
        self.queue.notify();
        self.pollee.notify(POLLIN | POLLRDNORM);
    }

    /// `timerfd_settime` with a checked value and flags: returns the old value.
    pub fn set(&self, new: TimerValue, flags: u32) -> TimerValue {
        let mut st = self.state.lock();
        let now = self.now(st.base);
        let old = st.expiry.settle(now);
        let absolute = flags & TFD_TIMER_ABSTIME != 0;
        st.base = if self.clock == ClockId::Realtime && !absolute { ClockId::Monotonic } else { self.clock };
        let now = self.now(st.base);
        st.expiry.arm(new, absolute, now);
        st.settime_flags = flags & (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
        drop(st);
        if new.value != 0 {
            self.platform.timers_changed();
        }
        old
    }

    /// `timerfd_gettime`: the time left (0 once a one-shot timer fired, or disarmed)
    /// and the interval.
    pub fn get(&self) -> TimerValue {
        let mut st = self.state.lock();
        let now = self.now(st.base);
        let was_armed = st.expiry.due().is_some();
        let fired = st.expiry.fire(now);
        let value = st.expiry.get(now);
        let rearmed = !was_armed && st.expiry.due().is_some();
        drop(st);
        if fired {
            self.fired();
        }
        if rearmed {
            self.platform.timers_changed();
        }
        value
    }

    /// Fires the timer if it is due; returns how long until it is due next, if it is
    /// armed (for [`TimerFdList::run`]).
    fn run(&self) -> Option<u64> {
        let mut st = self.state.lock();
        let now = self.now(st.base);
        let fired = st.expiry.fire(now);
        let next = st.expiry.due().map(|due| due.saturating_sub(now));
        drop(st);
        if fired {
            self.fired();
        }
        next
    }

    /// A read's attempt: the count, if there is one (the timer re-armed if periodic).
    fn try_take(&self) -> Option<u64> {
        let mut st = self.state.lock();
        let now = self.now(st.base);
        let was_armed = st.expiry.due().is_some();
        let ticks = st.expiry.take(now);
        let rearmed = !was_armed && st.expiry.due().is_some();
        drop(st);
        if rearmed {
            self.platform.timers_changed();
        }
        ticks
    }
}

impl File for TimerFd {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        crate::eventfd::read_count(buf, nonblock, &self.queue, || self.try_take())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_ino: self.ino, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn ioctl(&self, request: u32, _arg: u64, data: &mut [u8]) -> SysResult {
        if request != TFD_IOC_SET_TICKS {
            return Err(Errno::ENOTTY);
        }
        let ticks = u64::from_ne_bytes(data.try_into().map_err(|_| Errno::EFAULT)?);
        if ticks == 0 {
            return Err(Errno::EINVAL);
        }
        self.state.lock().expiry.set_ticks(ticks);
        self.fired();
        Ok(0)
    }

    fn poll(&self, events: u16) -> u16 {
        let st = self.state.lock();
        let readable = st.expiry.readable(self.now(st.base));
        drop(st);
        if readable {
            events & (POLLIN | POLLRDNORM)
        } else {
            0
        }
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Pollee(&self.pollee)
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        Some(b"anon_inode:[timerfd]".to_vec())
    }

    fn fdinfo(&self) -> Vec<u8> {
        let st = self.state.lock();
        let v = st.expiry.peek(self.now(st.base));
        let (value, interval) = (Timespec::from_nanos(v.value), Timespec::from_nanos(v.interval));
        let text = format!(
            "clockid: {}\nticks: {}\nsettime flags: 0{:o}\nit_value: ({}, {})\nit_interval: ({}, {})\n",
            self.raw_clock,
            st.expiry.ticks(),
            st.settime_flags,
            value.tv_sec,
            value.tv_nsec,
            interval.tv_sec,
            interval.tv_nsec
        );
        text.into_bytes()
    }
}

/// Every timerfd of the process, for [`crate::Kernel::run_timers`].
#[derive(Default)]
pub struct TimerFdList {
    fds: Mutex<Vec<Weak<TimerFd>>>,
}

impl TimerFdList {
    pub const fn new() -> TimerFdList {
        TimerFdList { fds: Mutex::new(Vec::new()) }
    }

    /// Puts `fd` on the list (it leaves when it is dropped).
    pub fn add(&self, fd: &Arc<TimerFd>) {
        let mut fds = self.fds.lock();
        fds.retain(|w| w.strong_count() > 0);
        fds.push(Arc::downgrade(fd));
    }

    /// Fires the timers that are due; returns how long, in nanoseconds of passing
    /// time, until the next is due (`None`: none is armed).
    pub fn run(&self) -> Option<u64> {
        let live: Vec<Arc<TimerFd>> = {
            let mut fds = self.fds.lock();
            fds.retain(|w| w.strong_count() > 0);
            fds.iter().filter_map(Weak::upgrade).collect()
        };
        live.iter().filter_map(|fd| fd.run()).min()
    }
}

#[cfg(test)]
#[path = "timerfd_tests.rs"]
mod tests;
