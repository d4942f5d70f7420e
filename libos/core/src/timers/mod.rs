//! Timers: `alarm`, `setitimer`/`getitimer` and POSIX timers (`timer_create` and
//! friends), as Linux keeps them for a process.
//!
//! This module is the bookkeeping, free of any platform: each timer's clock, next
//! expiry, interval, what it sends and its overrun count, and what happens at a given
//! "now" (see [`Timers::expire`]). The [`crate::Kernel`] methods in `kernel.rs` read the
//! clocks, send the signals and tell the platform ([`crate::Platform::timers_changed`])
//! whenever the earliest deadline may have moved; the platform calls
//! [`crate::Kernel::run_timers`] when it comes (the hosted platform from a host thread
//! of its own).
//!
//! Linux's rules, followed here:
//!
//! * **Ids.** A process's POSIX timer ids come from a counter that starts at 0 and
//!   skips ids in use, wrapping at `INT_MAX` — a freed id is not handed out again
//!   until the counter comes round. A creation that fails after the clock was
//!   accepted (a bad `sigevent`, an unwritable id pointer) still uses up its id.
//! * **Periodic timers and overruns** (`posixtimer_rearm`). When a periodic timer's
//!   signal is queued, the timer stops; when a thread takes the signal, the timer is
//!   moved forward past "now" by whole intervals and runs again. The intervals skipped
//!   in between are the overrun: `si_overrun` of that signal and what
//!   `timer_getoverrun` says from then on. A signal is taken (and its timer re-armed)
//!   only if it belongs to the timer's current arming: `timer_settime` and a disarm
//!   make a queued signal stale, and it is dropped when a thread comes to take it.
//! * **ITIMER_REAL** (`it_real_fn`) sends SIGALRM with `SI_KERNEL` to the process and
//!   stops; it runs again (moved forward past "now") when a thread takes *any* SIGALRM,
//!   as Linux's `dequeue_signal` does. A periodic ITIMER_REAL whose SIGALRM is ignored
//!   therefore stops after its first expiry, as on Linux.
//! * **CPU-time timers**: ITIMER_PROF and `CLOCK_PROCESS_CPUTIME_ID` timers run on the
//!   process's CPU time, ITIMER_VIRTUAL on its user time; as on Linux, a new
//!   ITIMER_VIRTUAL/PROF value gets one tick ([`TICK_NSEC`]) added, and an interval
//!   re-arms from the previous expiry without catching up.
//!
//! Where this departs from Linux: a periodic POSIX timer whose signal is ignored is
//! tried again at its next expiry but at most every [`IGNORED_RETRY_NS`] (Linux parks
//! it until the signal's action changes), and `CLOCK_THREAD_CPUTIME_ID` timers are not
//! offered (EOPNOTSUPP).

use alloc::collections::BTreeMap;

use crate::siginfo::SigInfo;
use crate::sigsend::SignalTarget;
use crate::Errno;

mod itimer;
mod kernel;
mod posix;

pub use itimer::{alarm_seconds, CpuItimer, RealItimer};
pub use posix::PosixTimer;

/// The largest time Linux's `ktime_t` holds, in nanoseconds: longer times saturate.
pub const KTIME_MAX: u64 = i64::MAX as u64;
/// One scheduler tick of the libOS (HZ = 250, Linux's most common setting), as the
/// CPU-time itimers count it.
pub const TICK_NSEC: u64 = 4_000_000;
/// How often a periodic timer whose signal is ignored is tried again, at most.
pub const IGNORED_RETRY_NS: u64 = 10_000_000;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// The clocks a timer can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerClock {
    Realtime,
    Monotonic,
    Boottime,
    Tai,
    /// The process's CPU time, user and system (ITIMER_PROF, `CLOCK_PROCESS_CPUTIME_ID`).
    ProcessCpu,
    /// The process's user CPU time (ITIMER_VIRTUAL).
    UserCpu,
}

impl TimerClock {
    /// Whether this clock counts CPU time rather than passing time.
    pub fn is_cpu(self) -> bool {
        matches!(self, TimerClock::ProcessCpu | TimerClock::UserCpu)
    }

    /// Whether `raw` names an alarm clock (`CLOCK_REALTIME_ALARM`, `CLOCK_BOOTTIME_ALARM`).
    pub fn is_alarm(raw: i32) -> bool {
        matches!(raw, 8 | 9)
    }

    /// Decodes `timer_create`'s clock for the process `pid`: EINVAL for no clock at all,
    /// EOPNOTSUPP for a clock that has no timers on Linux (the raw and coarse clocks),
    /// for the alarm clocks (no RTC to wake the machine, as on a Linux without one) and
    /// for thread CPU-time clocks (not offered).
    ///
    /// Negative ids are the CPU clocks of a process or thread by pid
    /// (`MAKE_PROCESS_CPUCLOCK`: `(~pid << 3) | type`, bit 2 set for a thread); glibc
    /// passes its own process's (pid 0) for `CLOCK_PROCESS_CPUTIME_ID`.
    pub fn for_timer(raw: i32, pid: u32) -> Result<TimerClock, Errno> {
        match raw {
            0 => Ok(TimerClock::Realtime),
            1 => Ok(TimerClock::Monotonic),
            2 => Ok(TimerClock::ProcessCpu),
            7 => Ok(TimerClock::Boottime),
            11 => Ok(TimerClock::Tai),
            3..=6 | 8 | 9 => Err(Errno::EOPNOTSUPP),
            r if r < 0 => {
                if r & 3 == 3 {
                    // Type 3: an fd clock (`CLOCKFD`, none here) or no clock at all.
                    return Err(Errno::EINVAL);
                }
                let target = !(r >> 3) as u32;
                let thread = r & 4 != 0;
                match (thread, target == 0 || target == pid) {
                    (false, true) => Ok(TimerClock::ProcessCpu),
                    (true, _) => Err(Errno::EOPNOTSUPP),
                    (false, false) => Err(Errno::EINVAL),
                }
            }
            _ => Err(Errno::EINVAL),
        }
    }
}

/// How a POSIX timer tells of its expiry (`sigev_notify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// `SIGEV_NONE`: nothing is sent; `timer_gettime` is the only way to look.
    None,
    /// `SIGEV_SIGNAL`, `SIGEV_THREAD` (a process signal), `SIGEV_THREAD_ID`.
    Signal { signo: u32, value: u64, target: SignalTarget },
}

/// What became of a signal a timer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Pending, for a thread to take.
    Queued,
    /// Thrown away: the signal is ignored.
    Ignored,
    /// The target thread no longer exists.
    NoTarget,
}

/// A timer's value as the guest sees it: time to the next expiry (0: disarmed) and
/// the interval (0: one-shot), in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimerValue {
    pub value: u64,
    pub interval: u64,
}

/// Moves `expires` forward by whole `interval`s until it is after `now`, and says by
/// how many (Linux's `hrtimer_forward`). Nothing moves while `now` is before `expires`.
pub fn forward(expires: &mut u64, now: u64, interval: u64) -> u64 {
    if now < *expires || interval == 0 {
        return 0;
    }
    let steps = (now - *expires) / interval + 1;
    *expires = expires.saturating_add(steps.saturating_mul(interval)).min(KTIME_MAX);
    steps
}

/// The process's timers.
#[derive(Debug, Default)]
pub struct Timers {
    posix: BTreeMap<i32, PosixTimer>,
    /// The next POSIX timer id to try.
    next_id: u32,
    pub real: RealItimer,
    pub virt: CpuItimer,
    pub prof: CpuItimer,
}

impl Timers {
    pub fn new() -> Timers {
        Timers::default()
    }

    /// How many POSIX timers exist.
    pub fn count(&self) -> usize {
        self.posix.len()
    }

    /// Hands out the next free id (see the module docs); it stays used up whether or not
    /// a timer is then [`Timers::insert`]ed under it.
    pub fn allocate_id(&mut self) -> i32 {
        loop {
            let id = (self.next_id & i32::MAX as u32) as i32;
            self.next_id = (self.next_id.wrapping_add(1)) & i32::MAX as u32;
            if !self.posix.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn insert(&mut self, id: i32, timer: PosixTimer) {
        self.posix.insert(id, timer);
    }

    /// The timer `id`; EINVAL if there is none (Linux's answer for a bad timer id).
    pub fn get_mut(&mut self, id: i32) -> Result<&mut PosixTimer, Errno> {
        self.posix.get_mut(&id).ok_or(Errno::EINVAL)
    }

    /// Deletes timer `id` (EINVAL if there is none) and returns it.
    pub fn remove(&mut self, id: i32) -> Result<PosixTimer, Errno> {
        self.posix.remove(&id).ok_or(Errno::EINVAL)
    }

    /// Fires every timer due at `now` (each read on its own clock): `send` delivers a
    /// signal and says what became of it.
    pub fn expire(&mut self, now: &dyn Fn(TimerClock) -> u64, send: &mut dyn FnMut(SignalTarget, SigInfo) -> Delivery) {
        for (&id, timer) in self.posix.iter_mut() {
            if let Some(due) = timer.due() {
                let t = now(timer.clock);
                if t >= due {
                    timer.fire(id, t, send);
                }
            }
        }
        if let Some(due) = self.real.due() {
            if now(TimerClock::Monotonic) >= due {
                self.real.fire();
                send(SignalTarget::Process, SigInfo::kernel(itimer::SIGALRM));
            }
        }
        for (itimer, clock, signo) in [
            (&mut self.virt, TimerClock::UserCpu, itimer::SIGVTALRM),
            (&mut self.prof, TimerClock::ProcessCpu, itimer::SIGPROF),
        ] {
            if let Some(due) = itimer.due() {
                if now(clock) >= due {
                    itimer.fire();
                    send(SignalTarget::Process, SigInfo::kernel(signo));
                }
            }
        }
    }

    /// How long to wait, in nanoseconds of passing time, before [`Timers::expire`] has
    /// something to do; `None` when no timer is due to fire by itself. A CPU-time
    /// deadline is checked again after its remaining CPU time divided by `cpus` (the
    /// most CPU time the process can use in that long), but not more often than every
    /// tick.
    pub fn next_timeout(&self, now: &dyn Fn(TimerClock) -> u64, cpus: u32) -> Option<u64> {
        let wait = |clock: TimerClock, due: u64| {
            let left = due.saturating_sub(now(clock));
            if clock.is_cpu() {
                (left / u64::from(cpus.max(1))).max(TICK_NSEC)
            } else {
                left
            }
        };
        let posix = self.posix.values().filter_map(|t| t.due().map(|due| wait(t.clock, due)));
        let real = self.real.due().map(|due| wait(TimerClock::Monotonic, due));
        let virt = self.virt.due().map(|due| wait(TimerClock::UserCpu, due));
        let prof = self.prof.due().map(|due| wait(TimerClock::ProcessCpu, due));
        posix.chain(real).chain(virt).chain(prof).min()
    }
}

#[cfg(test)]
#[path = "timers_tests.rs"]
mod tests;
